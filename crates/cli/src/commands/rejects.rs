//! `rua rejects`: what could not be read, and why.

use crate::exit;
use crate::output::{self, Format};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum)]
    format: Option<Format>,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let store = settings.open(true, false)?;
    let result = store.query(include_str!("../../../../sql/queries/rejects.sql"), &[])?;
    output::print(output::resolve(args.format), &result)?;
    Ok(exit::OK)
}
