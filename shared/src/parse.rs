//! Parsers for inputs that arrive as strings (CloudFormation sends every
//! custom-resource property as a string). Each returns a [`Detail`] naming the path
//! and the rule, so a front-end can collect them with the validator's own.

use crate::error::Detail;
use crate::path::AttrPath;

/// Parses a base-10 integer (surrounding ASCII whitespace allowed, as
/// CloudFormation passes `"3600"` or `" 3600 "` through untouched).
///
/// # Errors
///
/// A [`Detail`] at `path` with rule `integer`.
pub fn integer(path: AttrPath, s: &str) -> Result<i64, Detail> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| Detail::new(path, "integer", format!("must be a whole number, got {:?}", truncate(s))))
}

/// Parses a duration the way the spec's [`crate::spec::Type::Duration`] fields are
/// written by people: `2m`, `90s`, `1h30m`, or a bare number of seconds (surrounding
/// whitespace allowed). `None` for anything else, including overflow.
pub fn duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(std::time::Duration::from_secs(n));
    }
    let (mut total, mut num) = (0u64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            let n: u64 = num.parse().ok()?;
            num.clear();
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return None,
            };
            total = total.checked_add(n.checked_mul(unit)?)?;
        }
    }
    (num.is_empty() && !s.is_empty()).then(|| std::time::Duration::from_secs(total))
}

/// Parses a boolean the way CloudFormation writes one: `true`/`false` in any case.
///
/// # Errors
///
/// A [`Detail`] at `path` with rule `boolean`.
pub fn boolean(path: AttrPath, s: &str) -> Result<bool, Detail> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if t.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(Detail::new(path, "boolean", format!("must be true or false, got {:?}", truncate(s))))
    }
}

/// Splits a comma-separated list (CloudFormation's `CommaDelimitedList` form),
/// trimming spaces around items; the empty string is the empty list.
pub fn comma_list(s: &str) -> Vec<String> {
    if s.trim().is_empty() {
        return Vec::new();
    }
    s.split(',').map(|x| x.trim().to_owned()).collect()
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_grammar() {
        use std::time::Duration as D;
        for (s, secs) in [("120", 120), ("2m", 120), ("90s", 90), ("1h30m", 5400), (" 0 ", 0)] {
            assert_eq!(duration(s), Some(D::from_secs(secs)), "{s}");
        }
        for bad in ["", "m", "2x", "2m3", "1.5m", "-1", "99999999999999999999h"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    /// Issue 13, defect 7: numbers that fit a u64 but overflow once multiplied by
    /// their unit, or once added up, are refused (they wrapped in release builds,
    /// passing the one-hour cap, and panicked in debug builds).
    #[test]
    fn duration_overflow_is_refused_not_wrapped() {
        let max = u64::MAX;
        for bad in [
            format!("{}h", max / 3600 + 1),
            format!("{}m", max / 60 + 1),
            format!("{max}s1s"),
            format!("{}h{}h", max / 3600, max / 3600),
            "5124095576030432h".to_owned(),
        ] {
            assert_eq!(duration(&bad), None, "{bad}");
        }
        assert_eq!(duration(&format!("{max}s")), Some(std::time::Duration::from_secs(max)));
    }

    #[test]
    fn integer_accepts_whole_numbers() {
        let p = AttrPath::field("max_session_duration");
        for (s, want) in [("3600", 3600), (" 43200 ", 43200), ("-5", -5), ("+7", 7)] {
            assert_eq!(integer(p.clone(), s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn integer_rejects_other_text() {
        let p = AttrPath::field("max_session_duration");
        for s in ["", "1.5", "1e3", "0x10", "one", "99999999999999999999"] {
            let d = integer(p.clone(), s).unwrap_err();
            assert_eq!(
                (d.rule.as_str(), d.field.to_string()),
                ("integer", "max_session_duration".into()),
                "{s}"
            );
        }
    }

    #[test]
    fn boolean_accepts_cloudformation_spellings() {
        let p = AttrPath::field("x");
        for (s, want) in [("true", true), ("True", true), ("FALSE", false), (" false", false)] {
            assert_eq!(boolean(p.clone(), s).unwrap(), want, "{s}");
        }
        for s in ["yes", "1", "", "on"] {
            assert_eq!(boolean(p.clone(), s).unwrap_err().rule, "boolean", "{s}");
        }
    }

    #[test]
    fn comma_list_splits_and_trims() {
        assert_eq!(comma_list("a, b ,c"), ["a", "b", "c"]);
        assert!(comma_list(" ").is_empty());
    }
}
