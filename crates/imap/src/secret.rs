//! Reading a password or token from a file, an environment variable or a command.

use std::process::Command;

use crate::{ImapError, Secret};

/// The secret's value, without a trailing newline. Errors name the source, never the value.
pub(crate) fn resolve(secret: &Secret, user: &str) -> Result<String, ImapError> {
    let fail = |reason: String| ImapError::Secret {
        user: user.to_owned(),
        source_desc: format!("{secret:?}"),
        reason,
    };
    let value = match secret {
        Secret::File(path) => std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?,
        Secret::Env(name) => std::env::var(name).map_err(|e| fail(e.to_string()))?,
        Secret::Command(command) => {
            let output = Command::new("sh")
                .arg("-c")
                .arg(command)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| fail(e.to_string()))?;
            if !output.status.success() {
                return Err(fail(format!("the command exited with {}", output.status)));
            }
            String::from_utf8(output.stdout).map_err(|_| fail("output is not UTF-8".into()))?
        }
    };
    let value = value.trim_end_matches(['\r', '\n']).to_owned();
    if value.is_empty() {
        return Err(fail("it is empty".into()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_files_and_errors() {
        let cmd = Secret::Command("printf 's3cret\\n'".into());
        assert_eq!(resolve(&cmd, "u").ok().as_deref(), Some("s3cret"));
        let failing = Secret::Command("exit 3".into());
        let e = resolve(&failing, "u")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("command `exit 3`") && e.contains("exit status: 3"),
            "{e}"
        );
        let missing = Secret::File("/nonexistent/rua-secret".into());
        let e = resolve(&missing, "u")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("/nonexistent/rua-secret"), "{e}");
        let empty = Secret::Command("true".into());
        assert!(resolve(&empty, "u").is_err());
    }
}
