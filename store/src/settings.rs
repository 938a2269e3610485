//! The store's settings (name, address, tax id, country, currency, locale, tax policy), kept
//! as typed keys in the `setting` table.
//!
//! Invariant: [`Store::put_settings`] writes every key in one transaction, and
//! [`Store::settings`] returns either all of them decoded or `None` when the terminal has not
//! been set up yet; a key that cannot be decoded is an error, never a silent default.

use crate::{Result, Store, StoreError};
use pos_core::{Currency, PriceMode, RoundingDirection, TaxPolicy, TaxRoundingPolicy};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The countries whose tax and receipt rules the register knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Country {
    Es,
    Jp,
    Us,
}

impl Country {
    /// ISO 3166-1 alpha-2.
    pub const fn code(self) -> &'static str {
        match self {
            Country::Es => "ES",
            Country::Jp => "JP",
            Country::Us => "US",
        }
    }

    pub fn from_code(s: &str) -> Option<Country> {
        [Country::Es, Country::Jp, Country::Us]
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s))
    }

    pub const fn currency(self) -> Currency {
        match self {
            Country::Es => Currency::Eur,
            Country::Jp => Currency::Jpy,
            Country::Us => Currency::Usd,
        }
    }

    pub const fn tax_policy(self) -> TaxPolicy {
        match self {
            Country::Es => TaxPolicy::SPAIN,
            Country::Jp => TaxPolicy::JAPAN,
            Country::Us => TaxPolicy::US,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub name: String,
    pub address: String,
    /// NIF in Spain, 登録番号 (T + 13 digits) in Japan, EIN in the USA.
    pub tax_id: String,
    pub country: Country,
    pub currency: Currency,
    /// BCP 47, e.g. "es-ES", "ja-JP", "en-US".
    pub locale: String,
    pub tax_policy: TaxPolicy,
}

const KEYS: [&str; 9] = [
    "store.name",
    "store.address",
    "store.tax_id",
    "store.country",
    "store.currency",
    "store.locale",
    "tax.price_mode",
    "tax.rounding",
    "tax.rounding_direction",
];

/// The serde name of a unit-variant enum value ("tax_inclusive", "per_line"…).
fn enum_code<T: Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Invalid(format!("not a code: {other}"))),
    }
}

fn enum_decode<T: for<'de> Deserialize<'de>>(key: &str, s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("setting {key} = {s:?}")))
}

impl Store {
    /// The store's settings, or `None` before the terminal has been set up.
    pub fn settings(&self) -> Result<Option<StoreSettings>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")?;
        let mut values = Vec::with_capacity(KEYS.len());
        for key in KEYS {
            let v: Option<String> = stmt.query_row([key], |r| r.get(0)).optional()?;
            values.push(v);
        }
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let get = |i: usize| -> Result<&str> {
            values[i]
                .as_deref()
                .ok_or_else(|| StoreError::Corrupt(format!("setting {} is missing", KEYS[i])))
        };
        let country = Country::from_code(get(3)?)
            .ok_or_else(|| StoreError::Corrupt(format!("setting store.country = {:?}", get(3))))?;
        let currency = Currency::from_str(get(4)?)
            .map_err(|e| StoreError::Corrupt(format!("setting store.currency: {e}")))?;
        let price_mode: PriceMode = enum_decode(KEYS[6], get(6)?)?;
        let rounding: TaxRoundingPolicy = enum_decode(KEYS[7], get(7)?)?;
        let direction: RoundingDirection = enum_decode(KEYS[8], get(8)?)?;
        Ok(Some(StoreSettings {
            name: get(0)?.to_owned(),
            address: get(1)?.to_owned(),
            tax_id: get(2)?.to_owned(),
            country,
            currency,
            locale: get(5)?.to_owned(),
            tax_policy: TaxPolicy {
                price_mode,
                rounding,
                direction,
            },
        }))
    }

    /// Writes every setting, all at once.
    pub fn put_settings(&mut self, s: &StoreSettings) -> Result<()> {
        let values = [
            s.name.clone(),
            s.address.clone(),
            s.tax_id.clone(),
            s.country.code().to_owned(),
            s.currency.code().to_owned(),
            s.locale.clone(),
            enum_code(&s.tax_policy.price_mode)?,
            enum_code(&s.tax_policy.rounding)?,
            enum_code(&s.tax_policy.direction)?,
        ];
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?;
            for (k, v) in KEYS.iter().zip(values) {
                put.execute(params![k, v])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// The key of the cash rounding increment (see [`Store::cash_rounding_increment`]).
pub const CASH_ROUNDING_INCREMENT: &str = "cash.rounding_increment";

/// Increments a store may round cash totals to, in minor units: none (1), or to 0.02, 0.05,
/// 0.10, 0.20, 0.50 or 1.00 of the currency (e.g. 5 for euro stores in Finland or the
/// Netherlands, 10 for a yen store that keeps no 1- and 5-yen coins).
pub const CASH_ROUNDING_INCREMENTS: [i64; 7] = [1, 2, 5, 10, 20, 50, 100];

impl Store {
    /// What cash totals are rounded to, in minor units (1, the default: no rounding). Only cash
    /// is rounded; card and other tenders pay the exact total.
    pub fn cash_rounding_increment(&self) -> Result<i64> {
        let v: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")?
            .query_row([CASH_ROUNDING_INCREMENT], |r| r.get(0))
            .optional()?;
        match v {
            None => Ok(1),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| CASH_ROUNDING_INCREMENTS.contains(n))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("setting {CASH_ROUNDING_INCREMENT} = {v:?}"))
                }),
        }
    }

    /// Sets the cash rounding increment; anything but one of [`CASH_ROUNDING_INCREMENTS`] is
    /// refused and changes nothing.
    pub fn set_cash_rounding_increment(&mut self, increment: i64) -> Result<()> {
        if !CASH_ROUNDING_INCREMENTS.contains(&increment) {
            return Err(StoreError::Invalid(format!(
                "cash rounding increment {increment}: use one of {CASH_ROUNDING_INCREMENTS:?}"
            )));
        }
        self.conn.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CASH_ROUNDING_INCREMENT, increment.to_string()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn japan() -> StoreSettings {
        StoreSettings {
            name: "デモ商店".into(),
            address: "東京都千代田区1-1".into(),
            tax_id: "T1234567890123".into(),
            country: Country::Jp,
            currency: Currency::Jpy,
            locale: "ja-JP".into(),
            tax_policy: TaxPolicy::JAPAN,
        }
    }

    #[test]
    fn settings_read_back_exactly_as_written() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.settings().unwrap(), None, "a new terminal is not set up");
        s.put_settings(&japan()).unwrap();
        assert_eq!(s.settings().unwrap(), Some(japan()));
        let mut us = japan();
        us.country = Country::Us;
        us.tax_policy = TaxPolicy::US;
        s.put_settings(&us).unwrap();
        assert_eq!(s.settings().unwrap().unwrap().tax_policy, TaxPolicy::US);
        let mode: String = s
            .connection()
            .query_row(
                "SELECT value FROM setting WHERE key = 'tax.price_mode'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(mode, "tax_exclusive", "readable in the file");
    }

    #[test]
    fn cash_rounding_is_none_until_set_and_only_known_increments_are_taken() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.cash_rounding_increment().unwrap(), 1);
        s.set_cash_rounding_increment(5).unwrap();
        assert_eq!(s.cash_rounding_increment().unwrap(), 5);
        assert!(matches!(
            s.set_cash_rounding_increment(3),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(
            s.cash_rounding_increment().unwrap(),
            5,
            "a refusal changes nothing"
        );
    }

    #[test]
    fn a_damaged_setting_is_an_error_not_a_default() {
        let mut s = Store::open_in_memory().unwrap();
        s.put_settings(&japan()).unwrap();
        s.connection()
            .execute(
                "UPDATE setting SET value = 'sometimes' WHERE key = 'tax.rounding'",
                [],
            )
            .unwrap();
        assert!(matches!(s.settings(), Err(StoreError::Corrupt(_))));
    }
}
