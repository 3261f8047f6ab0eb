//! Wall-clock times as RFC 3339 UTC strings (what the state file, journal and report show),
//! without pulling in a date crate: only UTC is ever written, so civil-from-days is enough.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`, the form every timestamp in a run uses.
pub fn now() -> String {
    format_unix(now_unix())
}

/// Seconds since the epoch now (0 if the clock is before 1970, which only a broken RTC does).
pub fn now_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Formats seconds since the epoch as RFC 3339 UTC; used for every stored timestamp so they
/// sort as text and read the same on every machine.
pub fn format_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A compact form for file names (`20261126T162203Z`): no colons, which some tools and file
/// systems dislike.
pub fn file_stamp(secs: i64) -> String {
    format_unix(secs).replace(['-', ':'], "")
}

/// Parses what `format_unix` writes (and RFC 3339 with fractional seconds or an offset), so
/// durations can be computed from stored times. `None` for anything else.
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// A duration in words a technician reads at a glance: `45s`, `3m 07s`, `2h 05m`, `3d 4h`.
pub fn duration_words(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        3600..=86_399 => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// Seconds between two stored timestamps, when both parse.
pub fn between(start: &str, end: &str) -> Option<i64> {
    Some(parse(end)? - parse(start)?)
}

// Howard Hinnant's algorithms (public domain), days relative to 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_and_parse_back() {
        for (secs, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_795_710_123, "2026-11-26T16:22:03Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
            (-86_400, "1969-12-31T00:00:00Z"),
        ] {
            assert_eq!(format_unix(secs), text);
            assert_eq!(parse(text), Some(secs), "{text}");
        }
    }

    #[test]
    fn every_day_for_centuries_round_trips() {
        let mut secs = -5_000 * 86_400;
        while secs < 60_000 * 86_400 {
            assert_eq!(parse(&format_unix(secs)), Some(secs));
            secs += 86_400 + 3_601;
        }
    }

    #[test]
    fn offsets_and_fractions_are_understood() {
        assert_eq!(
            parse("2026-11-26T17:22:03+01:00"),
            parse("2026-11-26T16:22:03Z")
        );
        assert_eq!(
            parse("2026-11-26T16:22:03.123Z"),
            parse("2026-11-26T16:22:03Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-26T16:22:03",
            "2026-11-26T16:22:03.Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration_words(45), "45s");
        assert_eq!(duration_words(187), "3m 07s");
        assert_eq!(duration_words(7_500), "2h 05m");
        assert_eq!(duration_words(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(file_stamp(1_795_710_123), "20261126T162203Z");
    }
}
