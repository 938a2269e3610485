//! Money and date formatting for receipts, per language. The UI formats with `Intl`; the
//! receipt is formatted here, in the store's language, and must read the way LOCALE.md says:
//! `23,04 €` in Spanish, `1,270円` in Japanese, `€23.04` in English.

use pos_core::{Currency, Money};
use time::OffsetDateTime;

/// The languages the register speaks. Unknown tags fall back to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
    Ja,
}

impl Lang {
    pub fn parse(tag: &str) -> Lang {
        match tag.get(..2).unwrap_or("").to_ascii_lowercase().as_str() {
            "es" => Lang::Es,
            "ja" => Lang::Ja,
            _ => Lang::En,
        }
    }
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Ja => "ja",
        }
    }
}

fn group(digits: &str, sep: char, min_len: usize) -> String {
    if digits.len() < min_len {
        return digits.to_owned();
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Formats an amount the way a customer in that language reads it.
pub fn format_money(m: Money, lang: Lang) -> String {
    let exp = m.currency.exponent() as usize;
    let abs = m.minor.unsigned_abs();
    let div = m.currency.minor_per_major() as u64;
    let (int, frac) = (abs / div, abs % div);
    let sign = if m.minor < 0 { "-" } else { "" };
    let (thousands, decimal, min_group) = match lang {
        // Spanish style (as Intl es-ES): no separator for four-digit amounts.
        Lang::Es => ('.', ',', 5),
        Lang::En | Lang::Ja => (',', '.', 4),
    };
    let mut num = group(&int.to_string(), thousands, min_group);
    if exp > 0 {
        num.push(decimal);
        num.push_str(&format!("{frac:0exp$}"));
    }
    let symbol = match m.currency {
        Currency::Eur => "€",
        Currency::Usd => "$",
        Currency::Jpy => "¥",
    };
    match (lang, m.currency) {
        (Lang::Ja, Currency::Jpy) => format!("{sign}{num}円"),
        (Lang::Es, _) => format!("{sign}{num} {symbol}"),
        _ => format!("{sign}{symbol}{num}"),
    }
}

/// Formats a weight in grams: "1,234 kg" (es), "1.234 kg" (en/ja).
pub fn format_weight(grams: i64, lang: Lang) -> String {
    let dec = if lang == Lang::Es { ',' } else { '.' };
    format!("{}{}{:03} kg", grams / 1000, dec, grams % 1000)
}

/// Date and time of a receipt in the store's local offset: `22/11/2026 14:05` (es),
/// `2026年11月22日 14:05` (ja), `2026-11-22 14:05` (en).
pub fn format_datetime(at: OffsetDateTime, lang: Lang) -> String {
    let (y, mo, d, h, mi) = (
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
    );
    match lang {
        Lang::Es => format!("{d:02}/{mo:02}/{y} {h:02}:{mi:02}"),
        Lang::Ja => format!("{y}年{mo}月{d}日 {h:02}:{mi:02}"),
        Lang::En => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}"),
    }
}

/// The store's offset from UTC at `at`: Japan is UTC+9 all year; peninsular Spain is CET/CEST
/// (EU rule: summer time from the last Sunday of March to the last Sunday of October, 01:00 UTC).
pub fn utc_offset(settings: &pos_store::StoreSettings, at: OffsetDateTime) -> time::UtcOffset {
    use time::{Date, Month, UtcOffset, Weekday};
    let h = |h: i8| UtcOffset::from_hms(h, 0, 0).unwrap_or(UtcOffset::UTC);
    let last_sunday = |y: i32, m: Month| {
        let mut d = Date::from_calendar_date(y, m, 31).unwrap_or(Date::MIN);
        while d.weekday() != Weekday::Sunday {
            d = d.previous_day().unwrap_or(Date::MIN);
        }
        d.with_hms(1, 0, 0).map(|dt| dt.assume_utc()).unwrap_or(at)
    };
    match settings.country {
        pos_store::Country::Jp => h(9),
        pos_store::Country::Es => {
            let y = at.to_offset(UtcOffset::UTC).year();
            if at >= last_sunday(y, Month::March) && at < last_sunday(y, Month::October) {
                h(2)
            } else {
                h(1)
            }
        }
        pos_store::Country::Us => UtcOffset::UTC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_locale_md_says() {
        assert_eq!(
            format_money(Money::new(2304, Currency::Eur), Lang::Es),
            "23,04 €"
        );
        assert_eq!(
            format_money(Money::new(123_456, Currency::Eur), Lang::Es),
            "1234,56 €"
        );
        assert_eq!(
            format_money(Money::new(1_234_567, Currency::Eur), Lang::Es),
            "12.345,67 €"
        );
        assert_eq!(
            format_money(Money::new(1270, Currency::Jpy), Lang::Ja),
            "1,270円"
        );
        assert_eq!(
            format_money(Money::new(1270, Currency::Jpy), Lang::En),
            "¥1,270"
        );
        assert_eq!(
            format_money(Money::new(2304, Currency::Eur), Lang::En),
            "€23.04"
        );
        assert_eq!(
            format_money(Money::new(-5, Currency::Eur), Lang::Es),
            "-0,05 €"
        );
        assert_eq!(
            format_money(Money::new(0, Currency::Usd), Lang::En),
            "$0.00"
        );
    }

    #[test]
    fn dates_per_language() {
        let at = time::macros::datetime!(2026-11-02 09:05 UTC);
        assert_eq!(format_datetime(at, Lang::Es), "02/11/2026 09:05");
        assert_eq!(format_datetime(at, Lang::Ja), "2026年11月2日 09:05");
        assert_eq!(format_weight(1234, Lang::Es), "1,234 kg");
    }
}
