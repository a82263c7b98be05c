use super::*;

fn moment(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

#[test]
fn months_count_only_when_complete() {
    let between = |a, b| months_between(moment(a), moment(b)).unwrap();
    assert_eq!(between("2024-01-31 00:00:00", "2024-02-29 00:00:00"), 1);
    assert_eq!(between("2024-01-31 10:00:00", "2024-02-29 09:00:00"), 0);
    assert_eq!(between("2024-03-15 00:00:00", "2024-01-16 00:00:00"), -1);
    assert_eq!(between("2020-02-29 00:00:00", "2021-02-28 00:00:00"), 12);
}

#[test]
fn zones_are_spelled_as_trino_does() {
    assert_eq!(
        &*canonical_zone("america/new_york").unwrap(),
        "America/New_York"
    );
    assert_eq!(&*canonical_zone("+05:30").unwrap(), "+05:30");
    assert_eq!(&*canonical_zone("Z").unwrap(), "UTC");
    assert!(canonical_zone("Mars/Olympus").is_err());
}

#[test]
fn clocks_going_forward_skip_the_gap() {
    let zone = parse_zone("America/New_York").unwrap();
    // 02:30 does not exist on 2024-03-10 in New York; it becomes 03:30 EDT = 07:30 UTC.
    let utc = resolve(&zone, moment("2024-03-10 02:30:00")).unwrap();
    assert_eq!(utc, moment("2024-03-10 07:30:00"));
}
