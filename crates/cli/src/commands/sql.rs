//! `rua sql`: the analyst's own SQL, read-only unless `--write`.

use crate::exit;
use crate::output::{self, Format};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    query: String,
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Allow statements that change the database.
    #[arg(long)]
    write: bool,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let store = settings.open(!args.write, false)?;
    let result = store.query(&args.query, &[])?;
    output::print(output::resolve(args.format), &result)?;
    Ok(exit::OK)
}
