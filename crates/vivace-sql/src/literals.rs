//! Reading the text of date-time literals: where a `TIMESTAMP` or `TIME` text ends in a zone.

/// Splits `2024-01-31 12:34:56.789 America/New_York` into the local time and the zone.
pub fn split_zone(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    // `+05:30` or `-08:00` directly after the time, or a zone name after a space.
    if let Some((local, zone)) = text.rsplit_once(' ')
        && is_zone(zone)
    {
        return Some((local.trim(), zone));
    }
    let at = text.rfind(['+', '-'])?;
    let (local, zone) = text.split_at(at);
    (local.contains(':') && zone.len() >= 3 && is_zone(zone)).then_some((local.trim(), zone))
}

/// Whether a timestamp or time text ends with a zone.
pub fn has_zone(text: &str) -> bool {
    split_zone(text).is_some()
}

/// The text without its zone.
pub fn local_part(text: &str) -> &str {
    split_zone(text).map_or(text.trim(), |(local, _)| local)
}

/// Whether `zone` names a time zone: an IANA name, a fixed offset or `Z`.
pub fn is_zone(zone: &str) -> bool {
    zone.parse::<chrono_tz::Tz>().is_ok()
        || zone.parse::<chrono::FixedOffset>().is_ok()
        || zone.eq_ignore_ascii_case("Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_split_off() {
        assert_eq!(
            split_zone("2024-01-31 12:34:56 America/New_York"),
            Some(("2024-01-31 12:34:56", "America/New_York"))
        );
        assert_eq!(split_zone("12:34:56+05:30"), Some(("12:34:56", "+05:30")));
        assert_eq!(split_zone("2024-01-31 12:34:56"), None);
        assert_eq!(local_part(" 2024-01-31 "), "2024-01-31");
        assert!(has_zone("01:02:03 Z"));
    }
}
