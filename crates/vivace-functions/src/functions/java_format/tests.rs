use super::*;

fn run(format: &str, args: &[JavaValue]) -> String {
    java_format(format, args).unwrap_or_else(|e| format!("ERROR {e}"))
}

#[test]
fn general_conversions() {
    use JavaValue::*;
    assert_eq!(run("%s and %s", &[Text("a".into()), Long(3)]), "a and 3");
    assert_eq!(
        run(
            "%S|%5s|%-5s|%.2s",
            &[
                Text("ab".into()),
                Text("ab".into()),
                Text("ab".into()),
                Text("abc".into())
            ]
        ),
        "AB|   ab|ab   |ab"
    );
    assert_eq!(
        run("%s %s %s", &[Null, Boolean(true), Double(1.5)]),
        "null true 1.5"
    );
    assert_eq!(
        run("%b %b %B", &[Null, Long(0), Boolean(false)]),
        "false true FALSE"
    );
    assert_eq!(run("%2$s %1$s %<s", &[Long(1), Long(2)]), "2 1 1");
    assert_eq!(run("100%% done%n", &[]), "100% done\n");
    assert_eq!(run("%h", &[Text("hello".into())]), "5e918d2");
    assert_eq!(run("%h", &[Long(-1)]), "0");
}

#[test]
fn java_number_text() {
    assert_eq!(java_double_text(1.0), "1.0");
    assert_eq!(java_double_text(1e7), "1.0E7");
    assert_eq!(java_double_text(1234567.5), "1234567.5");
    assert_eq!(java_double_text(0.001), "0.001");
    assert_eq!(java_double_text(0.0001), "1.0E-4");
    assert_eq!(java_double_text(-2.5e-10), "-2.5E-10");
    assert_eq!(java_double_text(100.0), "100.0");
    assert_eq!(java_float_text(0.1), "0.1");
    let decimal = |u: i128, s: i32| JavaValue::Decimal(Digits::from_unscaled(u, s)).text();
    assert_eq!(decimal(12345, 2), "123.45");
    assert_eq!(decimal(-5, 3), "-0.005");
    assert_eq!(decimal(0, 2), "0.00");
    assert_eq!(decimal(0, 7), "0E-7");
    assert_eq!(decimal(1, 8), "1E-8");
    assert_eq!(decimal(42, 0), "42");
}

#[test]
fn integral_conversions() {
    use JavaValue::*;
    assert_eq!(
        run(
            "%d|%5d|%-5d|%05d",
            &[Long(42), Long(42), Long(42), Long(-42)]
        ),
        "42|   42|42   |-0042"
    );
    assert_eq!(
        run(
            "%,d|%+d|% d|%(d",
            &[Long(1234567), Long(5), Long(5), Long(-5)]
        ),
        "1,234,567|+5| 5|(5)"
    );
    assert_eq!(
        run(
            "%x|%X|%#x|%o|%08x",
            &[Long(255), Long(255), Long(255), Long(8), Long(255)]
        ),
        "ff|FF|0xff|10|000000ff"
    );
    assert_eq!(run("%x", &[Long(-1)]), "ffffffffffffffff");
    assert_eq!(run("%d", &[Null]), "null");
    assert_eq!(
        run("%d", &[Double(1.0)]),
        "ERROR IllegalFormatConversion: d != java.lang.Double"
    );
    assert_eq!(run("%.2d", &[Long(1)]), "ERROR IllegalFormatPrecision: 2");
    assert_eq!(
        run("%#d", &[Long(1)]),
        "ERROR FormatFlagsConversionMismatch: Conversion = d, Flags = #"
    );
    assert_eq!(run("%-d", &[Long(1)]), "ERROR MissingFormatWidth: %-d");
    assert_eq!(
        run("%+ d", &[Long(1)]),
        "ERROR IllegalFormatFlags: Flags = '+ '"
    );
}

#[test]
fn floating_conversions() {
    use JavaValue::*;
    assert_eq!(
        run(
            "%f|%.2f|%.0f|%.1f",
            &[Double(3.14259), Double(2.675), Double(0.5), Double(0.15)]
        ),
        "3.142590|2.68|1|0.2"
    );
    assert_eq!(
        run(
            "%,.2f|%010.3f|%(.1f",
            &[Double(1234567.891), Double(-3.14259), Double(-2.0)]
        ),
        "1,234,567.89|-00003.143|(2.0)"
    );
    assert_eq!(
        run(
            "%e|%.2E|%e",
            &[Double(12345.678), Double(0.000123), Double(0.0)]
        ),
        "1.234568e+04|1.23E-04|0.000000e+00"
    );
    assert_eq!(
        run(
            "%g|%g|%.3g|%g",
            &[
                Double(123.456),
                Double(0.00001234),
                Double(99999.0),
                Double(0.0)
            ]
        ),
        "123.456|1.23400e-05|1.00e+05|0.00000"
    );
    assert_eq!(
        run("%.3f", &[Decimal(Digits::from_unscaled(12345, 2))]),
        "123.450"
    );
    assert_eq!(
        run("%.1f", &[Decimal(Digits::from_unscaled(-125, 2))]),
        "-1.3"
    );
    assert_eq!(
        run(
            "%f|%+f|%5.1f",
            &[
                Double(f64::NAN),
                Double(f64::INFINITY),
                Double(f64::NEG_INFINITY)
            ]
        ),
        "NaN|+Infinity|-Infinity"
    );
    assert_eq!(run("%.20f", &[Double(0.1)]), "0.10000000000000000000");
    assert_eq!(run("%.2f", &[Double(99.999)]), "100.00");
    assert_eq!(
        run("%f", &[Long(1)]),
        "ERROR IllegalFormatConversion: f != java.lang.Long"
    );
    assert_eq!(
        run("%,e", &[Double(1.0)]),
        "ERROR FormatFlagsConversionMismatch: Conversion = e, Flags = ,"
    );
}

#[test]
fn datetime_conversions() {
    use JavaValue::*;
    let at = NaiveDate::from_ymd_opt(2024, 3, 9)
        .and_then(|d| d.and_hms_milli_opt(15, 4, 5, 120))
        .expect("a valid time");
    assert_eq!(
        run("%tF %<tT.%<tL %<tp", &[DateTime(at)]),
        "2024-03-09 15:04:05.120 pm"
    );
    assert_eq!(
        run("%tA, %<tB %<te %<tY | %<tD | %<tr", &[DateTime(at)]),
        "Saturday, March 9 2024 | 03/09/24 | 03:04:05 PM"
    );
    assert_eq!(run("%TB", &[Date(at.date())]), "MARCH");
    assert_eq!(
        run("%tH", &[Date(at.date())]),
        "ERROR UnsupportedTemporalType: Unsupported field: HourOfDay"
    );
    let zoned = super::Zoned {
        local: at,
        offset: -5 * 3600,
        zone: "America/New_York".into(),
        abbreviation: Some("EST".into()),
    };
    assert_eq!(
        run("%tc|%<tz|%<ts", &[Zoned(zoned.clone())]),
        "Sat Mar 09 15:04:05 EST 2024|-0500|1710014645"
    );
    assert_eq!(
        Zoned(zoned).text(),
        "2024-03-09T15:04:05.120-05:00[America/New_York]"
    );
    assert_eq!(
        DateTime(at.date().and_hms_opt(1, 2, 0).expect("time")).text(),
        "2024-03-09T01:02"
    );
    assert_eq!(
        run("%tY", &[Text("x".into())]),
        "ERROR IllegalFormatConversion: Y != java.lang.String"
    );
}

#[test]
fn format_errors() {
    use JavaValue::*;
    assert_eq!(
        run("%s %s", &[Long(1)]),
        "ERROR MissingFormatArgument: Format specifier '%s'"
    );
    assert_eq!(
        run("%q", &[Long(1)]),
        "ERROR UnknownFormatConversion: Conversion = 'q'"
    );
    assert_eq!(
        run("abc%", &[]),
        "ERROR UnknownFormatConversion: Conversion = '%'"
    );
    assert_eq!(
        run("%+s", &[Long(1)]),
        "ERROR FormatFlagsConversionMismatch: Conversion = s, Flags = +"
    );
    assert_eq!(
        run("%c", &[Long(65)]),
        "ERROR IllegalFormatConversion: c != java.lang.Long"
    );
    assert_eq!(
        run("%--5s", &[Long(1)]),
        "ERROR DuplicateFormatFlags: Flags = '-'"
    );
    assert_eq!(
        run("%2000000s", &[Long(1)]),
        "ERROR IllegalFormatWidth: 2000000 (at most 1000000)"
    );
    assert_eq!(run("%X|%.1f", &[Null, Double(-0.0)]), "NULL|-0.0");
}
