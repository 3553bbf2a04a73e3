//! Timestamps as AWS tools write them, read into UTC microseconds since the Unix epoch.
//!
//! Accepted: `YYYY-MM-DD`, then `T`, `t` or a space (Python's `str(datetime)`), then `HH:MM:SS`,
//! an optional fraction of 1–9 digits (digits past the sixth are truncated, not rounded, so that
//! two spellings of one instant get one identity), then `Z`, `z`, `±HH:MM` or `±HHMM`. A time
//! without an offset is refused rather than read as local time. JSON numbers are epoch seconds.
//! Times before 1970 are refused: no IVS event has one, and stored times stay non-negative.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Why a timestamp was refused; shown to the user beside the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(String);

fn fail<T>(why: impl Into<String>) -> Result<T, TimeError> {
    Err(TimeError(why.into()))
}

/// Parses RFC 3339 text (with the relaxations above) into epoch microseconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, TimeError> {
    let b = text.trim().as_bytes();
    let expect = "expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)";
    if b.len() < 19 {
        return fail(format!("too short for a timestamp; {expect}"));
    }
    let digits = |range: std::ops::Range<usize>| -> Result<u32, TimeError> {
        let part = &b[range];
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        } else {
            fail(expect)
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return fail(expect);
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return fail(format!("unexpected date/time separator; {expect}"));
    }
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
        .ok_or_else(|| TimeError("no such calendar date".into()))?;
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut pos = 19;
    let mut micros = 0u32;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start || end - start > 9 {
            return fail("a fraction of a second needs 1 to 9 digits");
        }
        let kept = &b[start..end.min(start + 6)];
        micros = kept.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'));
        micros *= 10u32.pow(6 - kept.len() as u32);
        pos = end;
    }
    let offset_seconds: i64 = match &b[pos..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => ([*h1, *h2], [*m1, *m2]),
                _ => return fail(format!("malformed UTC offset; {expect}")),
            };
            if !h.iter().chain(m.iter()).all(u8::is_ascii_digit) {
                return fail(format!("malformed UTC offset; {expect}"));
            }
            let hours = i64::from((h[0] - b'0') * 10 + (h[1] - b'0'));
            let minutes = i64::from((m[0] - b'0') * 10 + (m[1] - b'0'));
            if hours > 23 || minutes > 59 {
                return fail("UTC offset out of range");
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        [] => return fail("no UTC offset: add Z or ±HH:MM (a time without one is ambiguous)"),
        _ => return fail(format!("unexpected text after the time; {expect}")),
    };
    // A leap second (:60) is folded into the next second's start, as chrono does.
    let (second, leap) = if second == 60 { (59, 1) } else { (second, 0) };
    let time = NaiveTime::from_hms_opt(hour, minute, second)
        .ok_or_else(|| TimeError("no such time of day".into()))?;
    let local = NaiveDateTime::new(date, time).and_utc().timestamp() + leap;
    let us = (local - offset_seconds) * 1_000_000 + i64::from(micros);
    if us < 0 {
        return fail("before 1970: not a time IVS can have written");
    }
    Ok(us)
}

/// Epoch seconds (integer or fractional, as some exporters write them) into microseconds.
pub fn from_epoch_seconds(seconds: f64) -> Result<i64, TimeError> {
    // 1970 to 9999: IVS times, and what the reports' text forms can show.
    const RANGE: std::ops::RangeInclusive<f64> = 0.0..=253_402_300_799.0;
    if !seconds.is_finite() || !RANGE.contains(&seconds) {
        return fail("epoch seconds out of range");
    }
    Ok((seconds * 1e6).floor() as i64)
}

const DAY_US: i64 = 86_400_000_000;

/// A report window's bound: RFC 3339, a date (`2026-11-30` = its UTC midnight), a span back
/// from `now_us` (`90m`, `24h`, `7d`), or `yesterday` (the previous UTC day). The second value
/// is the end that `yesterday` implies when no `--until` is given.
pub fn parse_bound(text: &str, now_us: i64) -> Result<(i64, Option<i64>), TimeError> {
    let text = text.trim();
    let today = now_us.div_euclid(DAY_US) * DAY_US;
    if text == "yesterday" {
        return Ok((today - DAY_US, Some(today)));
    }
    if text == "today" {
        return Ok((today, None));
    }
    if let Some((number, unit)) = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&i| i > 0)
        .map(|i| text.split_at(i))
    {
        let per_unit = match unit {
            "m" => Some(60_000_000),
            "h" => Some(3_600_000_000),
            "d" => Some(DAY_US),
            _ => None,
        };
        if let (Some(per_unit), Ok(n)) = (per_unit, number.parse::<i64>()) {
            return n
                .checked_mul(per_unit)
                .and_then(|span| now_us.checked_sub(span))
                .map(|t| (t, None))
                .ok_or_else(|| TimeError(format!("{text} reaches before any representable time")));
        }
    }
    if text.len() == 10 {
        return parse_rfc3339(&format!("{text}T00:00:00Z")).map(|t| (t, None));
    }
    parse_rfc3339(text).map(|t| (t, None)).map_err(|e| {
        TimeError(format!(
            "{e} (or give a date, a span such as 24h or 7d, or yesterday)"
        ))
    })
}

/// RFC 3339 text with microseconds, the form stagelog prints in summaries and errors.
pub fn format_micros(us: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(us) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => us.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: i64 = 1_682_541_388_000_000; // 2023-04-26T20:36:28Z

    #[test]
    fn aws_cli_v2_forms() {
        assert_eq!(parse_rfc3339("2023-04-26T20:36:28+00:00"), Ok(BASE));
        assert_eq!(
            parse_rfc3339("2023-04-26T20:36:28.602000+00:00"),
            Ok(BASE + 602_000)
        );
    }

    #[test]
    fn aws_cli_v1_and_javascript_forms() {
        assert_eq!(
            parse_rfc3339("2023-04-26T20:36:28.602Z"),
            Ok(BASE + 602_000)
        );
        assert_eq!(parse_rfc3339("2023-04-26T20:36:28Z"), Ok(BASE));
    }

    #[test]
    fn python_str_datetime_space_separator() {
        assert_eq!(
            parse_rfc3339("2023-04-26 20:36:28.602000+00:00"),
            Ok(BASE + 602_000)
        );
    }

    #[test]
    fn offsets_are_normalized_to_utc() {
        assert_eq!(parse_rfc3339("2023-04-26T22:36:28+02:00"), Ok(BASE));
        assert_eq!(parse_rfc3339("2023-04-26T15:06:28-05:30"), Ok(BASE));
        assert_eq!(parse_rfc3339("2023-04-26T20:36:28+0000"), Ok(BASE));
        assert_eq!(parse_rfc3339("2023-04-27T00:36:28+04:00"), Ok(BASE));
    }

    #[test]
    fn fraction_digits_beyond_six_are_truncated() {
        assert_eq!(
            parse_rfc3339("2023-04-26T20:36:28.123456789Z"),
            Ok(BASE + 123_456)
        );
        assert_eq!(
            parse_rfc3339("2023-04-26T20:36:28.9999999Z"),
            Ok(BASE + 999_999)
        );
        assert_eq!(parse_rfc3339("2023-04-26T20:36:28.1Z"), Ok(BASE + 100_000));
        assert_eq!(
            parse_rfc3339("2023-04-26T20:36:28.000000+00:00"),
            parse_rfc3339("2023-04-26T20:36:28Z")
        );
    }

    #[test]
    fn lowercase_separators() {
        assert_eq!(parse_rfc3339("2023-04-26t20:36:28z"), Ok(BASE));
    }

    #[test]
    fn refuses_what_is_not_an_instant() {
        for bad in [
            "2023-04-26T20:36:28",
            "2023-04-26T20:36:28.Z",
            "2023-04-26T20:36:28.1234567890Z",
            "2023-02-30T20:36:28Z",
            "2023-04-26T24:00:00Z",
            "2023-04-26T20:36:28+25:00",
            "2023-04-26T20:36:28 UTC",
            "1969-12-31T23:59:59.5Z",
            "26/04/2023 20:36:28",
            "",
            "yesterday",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(from_epoch_seconds(1_682_541_388.0), Ok(BASE));
        assert_eq!(from_epoch_seconds(1.682_541_388e9), Ok(BASE));
        assert!(from_epoch_seconds(f64::NAN).is_err());
    }

    #[test]
    fn window_bounds() {
        let now = parse_rfc3339("2026-12-03T19:20:00Z").unwrap();
        let at = |t: &str| parse_rfc3339(t).unwrap();
        assert_eq!(
            parse_bound("yesterday", now),
            Ok((at("2026-12-02T00:00:00Z"), Some(at("2026-12-03T00:00:00Z"))))
        );
        assert_eq!(
            parse_bound("2026-11-30", now),
            Ok((at("2026-11-30T00:00:00Z"), None))
        );
        assert_eq!(
            parse_bound("24h", now),
            Ok((at("2026-12-02T19:20:00Z"), None))
        );
        assert_eq!(
            parse_bound("7d", now),
            Ok((at("2026-11-26T19:20:00Z"), None))
        );
        assert_eq!(
            parse_bound("90m", now),
            Ok((at("2026-12-03T17:50:00Z"), None))
        );
        assert!(parse_bound("7x", now).is_err());
        assert!(parse_bound("2026-13-01", now).is_err());
    }

    #[test]
    fn formats_back_with_microseconds() {
        assert_eq!(format_micros(BASE + 602_000), "2023-04-26T20:36:28.602000Z");
    }
}
