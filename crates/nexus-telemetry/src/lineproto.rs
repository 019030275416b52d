//! InfluxDB line protocol, as Telegraf and Node-RED write it:
//! `measurement[,tag=value...] field=value[,field=value...] [timestamp]`.
//!
//! Mapping to Nexus: the tag `asset_id` (or `asset`, an id or an asset's exact name)
//! names the asset; a field called `value` is the metric named by the measurement, and
//! every other field is the metric of its own name (so `machine,asset_id=3
//! temperature=71.2,vibration=0.4` writes two metrics). Integers (`12i`, `12u`), floats
//! and booleans (as 1 and 0) are accepted; string fields are refused.

use std::borrow::Cow;

/// How a line names its asset.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetRef<'a> {
    Id(i64),
    Name(Cow<'a, str>),
}

/// One reading of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePoint<'a> {
    /// 1-based line number in the body.
    pub line: usize,
    pub asset: AssetRef<'a>,
    pub metric: Cow<'a, str>,
    /// Milliseconds since the epoch; `None` when the line has no timestamp.
    pub ts: Option<i64>,
    pub value: f64,
}

/// A line that could not be read, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// Timestamp precision of a body (`?precision=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Ns,
    Us,
    Ms,
    S,
}

impl Precision {
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s.unwrap_or("ns") {
            "ns" | "n" => Some(Self::Ns),
            "us" | "u" => Some(Self::Us),
            "ms" => Some(Self::Ms),
            "s" => Some(Self::S),
            _ => None,
        }
    }

    fn to_millis(self, t: i64) -> Option<i64> {
        match self {
            Self::Ns => Some(t.div_euclid(1_000_000)),
            Self::Us => Some(t.div_euclid(1_000)),
            Self::Ms => Some(t),
            Self::S => t.checked_mul(1_000),
        }
    }
}

/// The parts of `s` between unescaped `sep`s outside double quotes (no allocation).
fn split_unescaped(s: &str, sep: u8) -> SplitUnescaped<'_> {
    SplitUnescaped {
        s,
        start: 0,
        sep,
        done: false,
    }
}

struct SplitUnescaped<'a> {
    s: &'a str,
    start: usize,
    sep: u8,
    done: bool,
}

impl<'a> Iterator for SplitUnescaped<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let b = self.s.as_bytes();
        let (mut i, mut quoted) = (self.start, false);
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'"' => quoted = !quoted,
                c if c == self.sep && !quoted => {
                    let part = &self.s[self.start..i];
                    self.start = i + 1;
                    return Some(part);
                }
                _ => {}
            }
            i += 1;
        }
        self.done = true;
        Some(&self.s[self.start.min(self.s.len())..])
    }
}

/// `key=value`, or `None` when `s` is not exactly two parts.
fn key_value(s: &str) -> Option<(&str, &str)> {
    let mut kv = split_unescaped(s, b'=');
    match (kv.next(), kv.next(), kv.next()) {
        (Some(k), Some(v), None) => Some((k, v)),
        _ => None,
    }
}

/// Removes backslash escapes, borrowing when there are none.
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ (',' | ' ' | '=' | '"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn field_value(raw: &str) -> Result<f64, String> {
    if raw.starts_with('"') {
        return Err("string fields are not metric values".into());
    }
    match raw {
        "t" | "T" | "true" | "True" | "TRUE" => return Ok(1.0),
        "f" | "F" | "false" | "False" | "FALSE" => return Ok(0.0),
        _ => {}
    }
    let parsed = if let Some(int) = raw.strip_suffix('i') {
        int.parse::<i64>().map(|v| v as f64).ok()
    } else if let Some(uint) = raw.strip_suffix('u') {
        uint.parse::<u64>().map(|v| v as f64).ok()
    } else {
        raw.parse::<f64>().ok()
    };
    match parsed {
        Some(v) if v.is_finite() => Ok(v),
        Some(_) => Err(format!("value '{raw}' is not a finite number")),
        None => Err(format!("value '{raw}' is not a number")),
    }
}

/// Parses one line into `out`.
fn parse_line<'a>(
    n: usize,
    line: &'a str,
    precision: Precision,
    out: &mut Vec<LinePoint<'a>>,
) -> Result<(), String> {
    let mut sections = split_unescaped(line, b' ').filter(|s| !s.is_empty());
    let (key, fields, ts) = match (
        sections.next(),
        sections.next(),
        sections.next(),
        sections.next(),
    ) {
        (Some(key), Some(fields), ts, None) => (key, fields, ts),
        (Some(_), None, ..) => return Err("expected fields after the measurement".into()),
        _ => return Err("expected 'measurement,tags fields timestamp'".into()),
    };
    let ts = match ts {
        None => None,
        Some(t) => {
            let t: i64 = t
                .parse()
                .map_err(|_| format!("timestamp '{t}' is not an integer"))?;
            Some(
                precision
                    .to_millis(t)
                    .ok_or_else(|| format!("timestamp '{t}' is out of range"))?,
            )
        }
    };
    let mut key_parts = split_unescaped(key, b',');
    let measurement = unescape(key_parts.next().unwrap_or(""));
    if measurement.is_empty() {
        return Err("the measurement is missing".into());
    }
    let mut asset = None;
    for tag in key_parts {
        let Some((k, v)) = key_value(tag) else {
            return Err(format!("tag '{tag}' is not key=value"));
        };
        match k {
            "asset_id" => {
                let id = v
                    .parse()
                    .map_err(|_| format!("tag asset_id '{v}' is not an integer"))?;
                asset = Some(AssetRef::Id(id));
            }
            "asset" => {
                asset = Some(match v.parse() {
                    Ok(id) => AssetRef::Id(id),
                    Err(_) => AssetRef::Name(unescape(v)),
                })
            }
            _ => {}
        }
    }
    let asset = asset.ok_or("a tag asset_id or asset must name the asset")?;
    let start = out.len();
    for field in split_unescaped(fields, b',') {
        let Some((k, v)) = key_value(field) else {
            out.truncate(start);
            return Err(format!("field '{field}' is not key=value"));
        };
        let value = field_value(v).inspect_err(|_| out.truncate(start))?;
        let metric = if k == "value" {
            measurement.clone()
        } else {
            unescape(k)
        };
        out.push(LinePoint {
            line: n,
            asset: asset.clone(),
            metric,
            ts,
            value,
        });
    }
    Ok(())
}

/// Every reading of `body`, or every line at fault (blank lines and `#` comments are
/// skipped).
pub fn parse(body: &str, precision: Precision) -> Result<Vec<LinePoint<'_>>, Vec<LineError>> {
    let mut points = Vec::with_capacity(body.len() / 48);
    let mut errors = Vec::new();
    for (i, line) in body.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(message) = parse_line(i + 1, line, precision, &mut points) {
            errors.push(LineError {
                line: i + 1,
                message,
            });
        }
    }
    if errors.is_empty() {
        Ok(points)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags_fields_and_precision() {
        let body = "temp,asset_id=3 value=71.5 1700000000000000000\n\
                    # a comment\n\
                    \n\
                    machine,asset=Press\\ 1,site=a vibration=0.4,cycles=12i,on=t 1700000000\n";
        let pts = parse(body, Precision::Ns).unwrap();
        assert_eq!(pts.len(), 4);
        assert_eq!(pts[0].asset, AssetRef::Id(3));
        assert_eq!(pts[0].metric, "temp");
        assert_eq!(pts[0].ts, Some(1_700_000_000_000));
        assert_eq!(pts[1].asset, AssetRef::Name("Press 1".into()));
        assert_eq!(pts[1].metric, "vibration");
        assert_eq!(pts[1].line, 4);
        assert_eq!(pts[2].value, 12.0);
        assert_eq!(pts[3].value, 1.0);
        let s = parse("temp,asset_id=3 value=1 1700000000", Precision::S).unwrap();
        assert_eq!(s[0].ts, Some(1_700_000_000_000));
        let none = parse("temp,asset_id=3 value=1", Precision::Ms).unwrap();
        assert_eq!(none[0].ts, None);
    }

    #[test]
    fn names_the_line_at_fault() {
        let body = "temp,asset_id=3 value=1\ntemp value=2\ntemp,asset_id=3 value=\"hot\"\n\
                    temp,asset_id=3 value=NaN\ntemp,asset_id=x value=1\ntemp,asset_id=3\n\
                    temp,asset_id=3 value=1 soon";
        let errs = parse(body, Precision::Ns).unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7]);
        assert!(errs[0].message.contains("asset"));
        assert!(errs[2].message.contains("finite"));
    }
}
