//! `--since`/`--until` values: a date, a date-time (UTC), or a duration back from now.

use std::time::{SystemTime, UNIX_EPOCH};

use rua_report::time::{civil_from_days, days_from_civil};

/// `YYYY-MM-DD HH:MM` (UTC) for seconds since the epoch.
pub fn text(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let secs = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Seconds since the epoch, now.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Now, as [`text`] writes it.
pub fn now_text() -> String {
    text(now())
}

fn number(text: &str) -> Result<i64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

/// Seconds in `30d`, `12h`, `2w`, `90m`, `45s`; None when `text` is not such a duration.
fn duration_seconds(text: &str) -> Option<Result<i64, String>> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let is_duration = text.len() - digits.len() == 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit());
    let unit = text.chars().last().filter(|_| is_duration)?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => {
            return Some(Err(format!(
                "unknown unit {unit:?} in {text:?} (use s, m, h, d or w)"
            )));
        }
    };
    Some(number(digits).map(|amount| amount * seconds))
}

/// A duration: `30d`, `12h`, `2w`, `90m`, `45s`.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    match duration_seconds(text) {
        Some(seconds) => Ok(std::time::Duration::from_secs(seconds?.max(0) as u64)),
        None => Err(format!(
            "{text:?} is not a duration (30d, 12h, 2w, 90m, 45s)"
        )),
    }
}

/// Seconds since the epoch for `2024-11-01`, `2024-11-01T12:30:00` (or with a space), or
/// `30d` / `12h` / `2w` / `90m` before now.
pub fn parse(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Some(seconds) = duration_seconds(text) {
        return Ok(now() - seconds?);
    }
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00"));
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(format!(
            "{text:?} is not a date (YYYY-MM-DD) or a duration (30d)"
        ));
    };
    let (y, m, d) = (number(y)?, number(m)?, number(d)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(format!("{text:?} is not a valid date"));
    }
    let clock: Vec<&str> = time.trim_end_matches('Z').split(':').collect();
    let mut seconds = 0;
    for (i, part) in clock.iter().enumerate().take(3) {
        seconds += number(part)? * [3_600, 60, 1][i];
    }
    Ok(days_from_civil(y, m, d) * 86_400 + seconds)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn dates_datetimes_and_durations() {
        assert_eq!(parse("1970-01-01"), Ok(0));
        assert_eq!(parse("2024-11-28"), Ok(1_732_752_000));
        assert_eq!(parse("2024-11-28T23:59:59Z"), Ok(1_732_838_399));
        assert_eq!(parse("2000-03-01 00:00:00"), Ok(951_868_800));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let thirty_days = parse("30d").unwrap_or_default();
        assert!((now - 30 * 86_400 - thirty_days).abs() <= 2);
        assert!(parse("2024-13-01").is_err());
        assert!(parse("soon").is_err());
        assert!(parse("3y").is_err());
        assert_eq!(
            super::duration("14d"),
            Ok(std::time::Duration::from_secs(14 * 86_400))
        );
        assert_eq!(super::duration("0s"), Ok(std::time::Duration::ZERO));
        assert!(super::duration("2024-11-01").is_err());
    }
}
