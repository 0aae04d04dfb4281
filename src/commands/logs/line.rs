//! One log line as the engine sends it with timestamps: `2026-11-27T10:00:00.5Z text`.
//! The timestamp becomes an [`Instant`], so lines of many containers order by time
//! whatever offset and number of fraction digits the engine wrote.

/// A point in time, to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    secs: i64,
    nanos: u32,
}

impl Instant {
    /// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    pub fn parse(text: &str) -> Option<Instant> {
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        if text.get(4..5) != Some("-") || text.get(10..11) != Some("T") {
            return None;
        }
        let days = days_from_civil(number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        let mut rest = text.get(19..)?;
        let mut nanos = 0u32;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            let padded = format!("{:0<9}", &fraction[..digits.min(9)]);
            nanos = padded.parse().ok()?;
            rest = &fraction[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.get(..1)? {
                    "+" => 1,
                    "-" => -1,
                    _ => return None,
                };
                let hours: i64 = rest.get(1..3)?.parse().ok()?;
                let minutes: i64 = rest.get(4..6)?.parse().ok()?;
                sign * (hours * 3600 + minutes * 60)
            }
        };
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Some(Instant { secs, nanos })
    }

    /// Whole seconds since the Unix epoch, as the engine's `since` wants them.
    pub fn unix_seconds(self) -> i64 {
        self.secs
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A line of a container's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at: Instant,
    /// The timestamp as the engine wrote it, shown with `--timestamps`.
    pub stamp: String,
    pub text: String,
}

/// The lines of one chunk of a log read with timestamps. A line without a
/// timestamp of its own (never sent by the engine, but cheap to allow) takes the
/// one before it.
pub fn lines_of(chunk: &[u8]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for raw in String::from_utf8_lossy(chunk).lines() {
        let (stamp, text) = raw.split_once(' ').unwrap_or((raw, ""));
        match Instant::parse(stamp) {
            Some(at) => lines.push(Line {
                at,
                stamp: stamp.to_string(),
                text: text.to_string(),
            }),
            None => {
                let (at, stamp) = lines
                    .last()
                    .map_or((Instant { secs: 0, nanos: 0 }, String::new()), |l| {
                        (l.at, l.stamp.clone())
                    });
                lines.push(Line {
                    at,
                    stamp,
                    text: raw.to_string(),
                });
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_order_by_time_not_by_text() {
        let early = Instant::parse("2026-11-27T10:00:00.5Z").expect("parse");
        let late = Instant::parse("2026-11-27T10:00:00.123456789Z");
        // The engine trims trailing zeros, so as text ".05Z" would sort after ".123Z".
        assert!(late < Some(early));
        assert!(
            Instant::parse("2026-11-27T10:00:00.05Z") < Instant::parse("2026-11-27T10:00:00.123Z")
        );
        assert!(
            Instant::parse("2026-11-27T10:00:00Z")
                < Instant::parse("2026-11-27T10:00:00.000000001Z")
        );
    }

    #[test]
    fn offsets_are_taken_into_account() {
        assert_eq!(
            Instant::parse("2026-11-27T19:00:00+09:00"),
            Instant::parse("2026-11-27T10:00:00Z")
        );
        assert_eq!(
            Instant::parse("2026-11-27T05:30:00-04:30"),
            Instant::parse("2026-11-27T10:00:00Z")
        );
    }

    #[test]
    fn unix_seconds_match_known_dates() {
        let at = |text| Instant::parse(text).map(Instant::unix_seconds);
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(at("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(at("2024-02-29T12:34:56.789Z"), Some(1_709_210_096));
    }

    #[test]
    fn garbage_is_not_a_timestamp() {
        for text in [
            "",
            "hello",
            "2026-11-27",
            "2026-11-27T10:00:00",
            "2026-11-27T10:00:00+9",
        ] {
            assert_eq!(Instant::parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_chunk_splits_into_timestamped_lines() {
        let lines = lines_of(b"2026-11-27T10:00:00.1Z first line\n2026-11-27T10:00:00.2Z \n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "first line");
        assert_eq!(lines[0].stamp, "2026-11-27T10:00:00.1Z");
        assert_eq!(lines[1].text, "");
        assert!(lines[0].at < lines[1].at);
    }
}
