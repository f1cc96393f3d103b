//! Simulation time: one clock in whole seconds.
//!
//! [`SimTime`] counts seconds from midnight at the start of the simulated day (day 0); times past 24:00 are the
//! next day. [`Seconds`] is a span. Both parse and print the forms people write in scenario files:
//! `07:30`, `7:30:15`, `24:00`, `1d 02:00` for times; `15min`, `1h30min`, `90s`, `2h`, `300` for spans.
//!
//! # Examples
//! ```
//! use citytwin_engine::time::{Seconds, SimTime};
//! let t: SimTime = "07:30".parse().unwrap();
//! assert_eq!(t.0, 27_000);
//! assert_eq!((t + "15min".parse::<Seconds>().unwrap()).to_string(), "07:45");
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, Sub};
use std::str::FromStr;

/// A moment of the simulation: seconds since midnight of day 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u32);

/// A span of time, seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(pub u32);

impl SimTime {
    /// Milliseconds since midnight of day 0.
    pub fn millis(self) -> u64 {
        u64::from(self.0) * 1000
    }

    /// Hours since midnight as a float (for plots).
    pub fn hours(self) -> f64 {
        f64::from(self.0) / 3600.0
    }
}

impl Add<Seconds> for SimTime {
    type Output = SimTime;
    fn add(self, s: Seconds) -> SimTime {
        SimTime(self.0.saturating_add(s.0))
    }
}

impl Sub for SimTime {
    type Output = Seconds;
    fn sub(self, o: SimTime) -> Seconds {
        Seconds(self.0.saturating_sub(o.0))
    }
}

/// Why a time or span did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeParseError {
    /// Not a time of day.
    #[error("`{0}` is not a time (write HH:MM, HH:MM:SS or `1d HH:MM`)")]
    Time(String),
    /// Not a span.
    #[error("`{0}` is not a duration (write e.g. 90s, 15min, 1h30min, 2h, or seconds)")]
    Span(String),
}

impl FromStr for SimTime {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimeParseError::Time(s.to_owned());
        let t = s.trim();
        let (days, clock) = match t.split_once('d') {
            Some((d, rest)) => (d.trim().parse::<u32>().map_err(|_| err())?, rest.trim()),
            None => (0, t),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(err());
        }
        let num = |p: &str| p.trim().parse::<u32>().map_err(|_| err());
        let (h, m) = (num(parts[0])?, num(parts[1])?);
        let sec = if parts.len() == 3 { num(parts[2])? } else { 0 };
        if m >= 60 || sec >= 60 || h > 48 {
            return Err(err());
        }
        days.checked_mul(86_400)
            .and_then(|d| d.checked_add(h * 3600 + m * 60 + sec))
            .map(SimTime)
            .ok_or_else(err)
    }
}

impl FromStr for Seconds {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimeParseError::Span(s.to_owned());
        let t = s.trim().to_ascii_lowercase().replace(' ', "");
        if t.is_empty() {
            return Err(err());
        }
        if let Ok(n) = t.parse::<u32>() {
            return Ok(Seconds(n));
        }
        let mut total: u64 = 0;
        let mut rest = t.as_str();
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(err)?;
            if digits == 0 {
                return Err(err());
            }
            let value: f64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
                "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
                "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
                "d" | "day" | "days" => 86_400.0,
                _ => return Err(err()),
            };
            rest = &rest[unit_len..];
            total += (value * factor).round() as u64;
        }
        u32::try_from(total).map(Seconds).map_err(|_| err())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, r) = (self.0 / 86_400, self.0 % 86_400);
        let (h, m, s) = (r / 3600, (r % 3600) / 60, r % 60);
        if d > 0 && r == 0 && d == 1 {
            return write!(f, "24:00");
        }
        if d > 0 {
            write!(f, "{d}d ")?;
        }
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s == 0 {
            return write!(f, "0s");
        }
        let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}min")?;
        }
        if sec > 0 {
            write!(f, "{sec}s")?;
        }
        Ok(())
    }
}

/// Accepts a string (`"07:30"`) or a number of seconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum TextOrNumber {
    Text(String),
    Number(u32),
}

impl Serialize for SimTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SimTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match TextOrNumber::deserialize(d)? {
            TextOrNumber::Text(t) => t.parse().map_err(serde::de::Error::custom),
            TextOrNumber::Number(n) => Ok(SimTime(n)),
        }
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match TextOrNumber::deserialize(d)? {
            TextOrNumber::Text(t) => t.parse().map_err(serde::de::Error::custom),
            TextOrNumber::Number(n) => Ok(Seconds(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let p = |s: &str| s.parse::<SimTime>();
        assert_eq!(p("07:30"), Ok(SimTime(27_000)));
        assert_eq!(p("7:30:15"), Ok(SimTime(27_015)));
        assert_eq!(p("24:00"), Ok(SimTime(86_400)));
        assert_eq!(p("1d 02:00"), Ok(SimTime(93_600)));
        assert!(p("7").is_err() && p("07:61").is_err() && p("noon").is_err());
        assert_eq!(SimTime(27_015).to_string(), "07:30:15");
        assert_eq!(SimTime(86_400).to_string(), "24:00");
        assert_eq!(SimTime(93_600).to_string(), "1d 02:00");
        for t in ["00:00", "08:15", "23:59:59", "24:00", "1d 02:00"] {
            assert_eq!(p(t).map(|x| x.to_string()).as_deref(), Ok(t));
        }
    }

    #[test]
    fn spans() {
        let p = |s: &str| s.parse::<Seconds>();
        assert_eq!(p("90s"), Ok(Seconds(90)));
        assert_eq!(p("15min"), Ok(Seconds(900)));
        assert_eq!(p("1h30min"), Ok(Seconds(5400)));
        assert_eq!(p("1.5h"), Ok(Seconds(5400)));
        assert_eq!(p("300"), Ok(Seconds(300)));
        assert_eq!(p("1d"), Ok(Seconds(86_400)));
        assert!(p("").is_err() && p("h").is_err() && p("5 parsecs").is_err());
        assert_eq!(Seconds(5430).to_string(), "1h30min30s");
        assert_eq!(p(&Seconds(5430).to_string()), Ok(Seconds(5430)));
    }
}
