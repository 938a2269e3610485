//! The ZVT messages this project uses, as typed values with pure encoders and decoders for both
//! directions (the driver sends commands and reads terminal messages; the simulator does the
//! opposite).
//!
//! Invariant: a decoded [`StatusInformation`] holds at most the last four digits of a card
//! number — the full PAN (BMP 22, even when a terminal sends it unmasked) is dropped while
//! parsing and never stored, logged or returned.

use super::ZvtCodecError;
use super::apdu::{Apdu, parse_bmps, parse_tlv, push_bmp, push_tlv};
use super::bcd;

/// Result code 00: success (BMP 27, error byte of 06 1E).
pub const RESULT_OK: u8 = 0x00;
/// Result code 6C: aborted via timeout or abort key / ECR abort.
pub const RESULT_ABORTED: u8 = 0x6C;
/// Result code B4: already reversed.
pub const RESULT_ALREADY_REVERSED: u8 = 0xB4;
/// Result code B5: reversal not possible (unknown receipt).
pub const RESULT_REVERSAL_NOT_POSSIBLE: u8 = 0xB5;
/// NAK code A0: receiver not ready — the terminal is busy.
pub const NAK_BUSY: u8 = 0xA0;
/// NAK code 83: function not possible.
pub const NAK_NOT_POSSIBLE: u8 = 0x83;

/// Intermediate status codes (04 FF) the UI distinguishes.
pub mod intermediate {
    pub const WATCH_PIN_PAD: u8 = 0x01;
    pub const WATCH_PIN_PAD_2: u8 = 0x02;
    pub const WAITING_FOR_HOST: u8 = 0x04;
    pub const INSERT_CARD: u8 = 0x0A;
    pub const REMOVE_CARD: u8 = 0x0B;
    pub const PLEASE_WAIT: u8 = 0x0E;
    pub const INCORRECT_PIN: u8 = 0x15;
    pub const PLEASE_WAIT_2: u8 = 0x17;
    pub const APPROVED: u8 = 0x1C;
    pub const DECLINED: u8 = 0x1D;
}

/// ISO 4217 numeric code of a currency (BMP 49 / registration CC).
pub fn currency_code(c: pos_core::Currency) -> u16 {
    match c {
        pos_core::Currency::Eur => 978,
        pos_core::Currency::Usd => 840,
        pos_core::Currency::Jpy => 392,
    }
}

/// A short English text for a result code, for logs and the cashier.
pub fn result_text(code: u8) -> &'static str {
    match code {
        0x00 => "approved",
        0x01..=0x63 => "declined by the card issuer",
        0x64 => "card not readable",
        0x65 => "card data not present",
        0x66 => "processing error",
        0x6C => "aborted",
        0x6E => "card blocked",
        0x6F => "wrong currency",
        0x71 => "credit not sufficient",
        0x78 => "card expired",
        0x79 => "card not yet valid",
        0x7A => "card unknown",
        0x7D => "communication error",
        0x83 => "function not possible",
        0x9C => "please wait",
        0xA0 => "terminal not ready",
        0xB4 => "already reversed",
        0xB5 => "reversal not possible",
        0xC3 => "maximum amount exceeded",
        0xFF => "system error",
        _ => "declined",
    }
}

fn bcd_field(v: u64, width: usize) -> Result<Vec<u8>, ZvtCodecError> {
    bcd::encode(v, width)
}

fn password_bytes(password: u32) -> Result<Vec<u8>, ZvtCodecError> {
    bcd_field(u64::from(password), 3)
}

/// A command the cash register sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcrCommand {
    /// 06 00: password, config byte, currency code.
    Registration {
        password: u32,
        config: u8,
        currency: u16,
    },
    /// 06 01: amount in minor units (BMP 04) and currency (BMP 49).
    Authorization { amount: u64, currency: u16 },
    /// 06 30: reverse the transaction with this receipt number (BMP 87).
    Reversal { password: u32, receipt_no: u32 },
    /// 06 31: refund an amount.
    Refund {
        password: u32,
        amount: u64,
        currency: u16,
    },
    /// 06 50: end of day.
    EndOfDay { password: u32 },
    /// 06 20: repeat the receipt (and status information) of the last transaction.
    RepeatReceipt { password: u32 },
    /// 05 01: status enquiry.
    StatusEnquiry { password: u32 },
    /// 06 B0: abort the running command.
    Abort,
    /// 80 00: positive acknowledgement.
    Ack,
    /// 84 xx: negative acknowledgement.
    Nak(u8),
    /// Anything else (the simulator answers "function not possible").
    Other(Apdu),
}

impl EcrCommand {
    pub fn to_apdu(&self) -> Result<Apdu, ZvtCodecError> {
        Ok(match *self {
            EcrCommand::Registration {
                password,
                config,
                currency,
            } => {
                let mut d = password_bytes(password)?;
                d.push(config);
                d.extend(bcd_field(u64::from(currency), 2)?);
                Apdu::new(0x06, 0x00, d)
            }
            EcrCommand::Authorization { amount, currency } => {
                let mut d = Vec::new();
                push_bmp(&mut d, 0x04, &bcd_field(amount, 6)?)?;
                push_bmp(&mut d, 0x49, &bcd_field(u64::from(currency), 2)?)?;
                Apdu::new(0x06, 0x01, d)
            }
            EcrCommand::Reversal {
                password,
                receipt_no,
            } => {
                let mut d = password_bytes(password)?;
                push_bmp(&mut d, 0x87, &bcd_field(u64::from(receipt_no), 2)?)?;
                Apdu::new(0x06, 0x30, d)
            }
            EcrCommand::Refund {
                password,
                amount,
                currency,
            } => {
                let mut d = password_bytes(password)?;
                push_bmp(&mut d, 0x04, &bcd_field(amount, 6)?)?;
                push_bmp(&mut d, 0x49, &bcd_field(u64::from(currency), 2)?)?;
                Apdu::new(0x06, 0x31, d)
            }
            EcrCommand::EndOfDay { password } => Apdu::new(0x06, 0x50, password_bytes(password)?),
            EcrCommand::RepeatReceipt { password } => {
                Apdu::new(0x06, 0x20, password_bytes(password)?)
            }
            EcrCommand::StatusEnquiry { password } => {
                Apdu::new(0x05, 0x01, password_bytes(password)?)
            }
            EcrCommand::Abort => Apdu::new(0x06, 0xB0, vec![]),
            EcrCommand::Ack => Apdu::new(0x80, 0x00, vec![]),
            EcrCommand::Nak(code) => Apdu::new(0x84, code, vec![]),
            EcrCommand::Other(ref a) => a.clone(),
        })
    }

    /// Decodes what a cash register sent (used by the simulator).
    pub fn from_apdu(a: &Apdu) -> Result<EcrCommand, ZvtCodecError> {
        let password = |d: &[u8]| -> Result<u32, ZvtCodecError> {
            if d.len() < 3 {
                return Err(ZvtCodecError::Truncated);
            }
            Ok(bcd::decode(&d[..3])? as u32)
        };
        let amount_and_cc = |d: &[u8]| -> Result<(u64, u16), ZvtCodecError> {
            let mut amount = None;
            let mut cc = 978;
            for b in parse_bmps(d)? {
                match b.tag {
                    0x04 => amount = Some(bcd::decode(&b.value)?),
                    0x49 => cc = bcd::decode(&b.value)? as u16,
                    _ => {}
                }
            }
            Ok((
                amount.ok_or(ZvtCodecError::Malformed("no amount".into()))?,
                cc,
            ))
        };
        Ok(match (a.class, a.instr) {
            (0x06, 0x00) => {
                if a.data.len() < 4 {
                    return Err(ZvtCodecError::Truncated);
                }
                let currency = if a.data.len() >= 6 {
                    bcd::decode(&a.data[4..6])? as u16
                } else {
                    978
                };
                EcrCommand::Registration {
                    password: password(&a.data)?,
                    config: a.data[3],
                    currency,
                }
            }
            (0x06, 0x01) => {
                let (amount, currency) = amount_and_cc(&a.data)?;
                EcrCommand::Authorization { amount, currency }
            }
            (0x06, 0x30) => {
                let pw = password(&a.data)?;
                let receipt = parse_bmps(&a.data[3..])?
                    .into_iter()
                    .find(|b| b.tag == 0x87)
                    .ok_or(ZvtCodecError::Malformed("reversal without receipt".into()))?;
                EcrCommand::Reversal {
                    password: pw,
                    receipt_no: bcd::decode(&receipt.value)? as u32,
                }
            }
            (0x06, 0x31) => {
                let pw = password(&a.data)?;
                let (amount, currency) = amount_and_cc(&a.data[3..])?;
                EcrCommand::Refund {
                    password: pw,
                    amount,
                    currency,
                }
            }
            (0x06, 0x50) => EcrCommand::EndOfDay {
                password: password(&a.data)?,
            },
            (0x06, 0x20) => EcrCommand::RepeatReceipt {
                password: password(&a.data).unwrap_or(0),
            },
            (0x05, 0x01) => EcrCommand::StatusEnquiry {
                password: password(&a.data).unwrap_or(0),
            },
            (0x06, 0xB0) => EcrCommand::Abort,
            (0x80, 0x00) => EcrCommand::Ack,
            (0x84, 0x00) => EcrCommand::Ack,
            (0x84, code) => EcrCommand::Nak(code),
            _ => EcrCommand::Other(a.clone()),
        })
    }
}

/// The transaction result a terminal reports in 04 0F (after payment, reversal, refund,
/// end of day or a repeated receipt). Card data is reduced to brand and last four digits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusInformation {
    /// BMP 27; 00 = success.
    pub result_code: Option<u8>,
    /// BMP 04, minor units.
    pub amount: Option<u64>,
    /// BMP 49, ISO 4217 numeric.
    pub currency: Option<u16>,
    /// BMP 0B.
    pub trace_no: Option<u32>,
    /// BMP 87.
    pub receipt_no: Option<u32>,
    /// BMP 29, eight digits.
    pub terminal_id: Option<String>,
    /// BMP 0C, HHMMSS.
    pub time: Option<u32>,
    /// BMP 0D, MMDD.
    pub date: Option<u32>,
    /// BMP 8B card name ("MasterCard", "girocard").
    pub card_name: Option<String>,
    /// BMP 8A ZVT card type.
    pub card_type: Option<u8>,
    /// Last four digits of BMP 22 (the rest is discarded while parsing).
    pub pan_last4: Option<String>,
    /// BMP 3B, the authorisation (approval) code.
    pub approval_code: Option<String>,
    /// BMP 3C additional text.
    pub additional_text: Option<String>,
    /// Number of transactions in an end-of-day total (first byte groups of BMP 60, summed).
    pub transaction_count: Option<u32>,
}

/// A message the terminal sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtMessage {
    /// 80 00 00 (or 84 00): the command was accepted.
    Ack,
    /// 84 xx: the command was refused with code xx.
    Nak(u8),
    /// 04 FF: intermediate status (insert card, PIN, please wait ...).
    Intermediate { status: u8 },
    /// 04 0F: the transaction result.
    Status(Box<StatusInformation>),
    /// 06 D1: one print line.
    PrintLine { attribute: u8, text: String },
    /// 06 D3: a text block (receipt type 1 merchant, 2 customer, 3 administration).
    TextBlock {
        receipt_type: Option<u8>,
        lines: Vec<String>,
    },
    /// 06 0F: completion, the cash register is master again.
    Completion {
        terminal_id: Option<String>,
        status_byte: Option<u8>,
    },
    /// 06 1E: the terminal aborted the command with this result code.
    Abort { code: u8 },
    /// Any other APDU.
    Other(Apdu),
}

/// Text of print lines: ASCII, with the German letters of code page 437 that terminals use.
pub fn decode_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take_while(|b| **b != 0)
        .map(|&b| match b {
            0x20..=0x7E => char::from(b),
            0x81 => 'ü',
            0x84 => 'ä',
            0x8E => 'Ä',
            0x94 => 'ö',
            0x99 => 'Ö',
            0x9A => 'Ü',
            0xE1 => 'ß',
            _ => '?',
        })
        .collect()
}

/// Inverse of [`decode_text`]; characters outside it become `?`.
pub fn encode_text(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            'ü' => 0x81,
            'ä' => 0x84,
            'Ä' => 0x8E,
            'ö' => 0x94,
            'Ö' => 0x99,
            'Ü' => 0x9A,
            'ß' => 0xE1,
            _ => b'?',
        })
        .collect()
}

fn ascii_trimmed(bytes: &[u8]) -> String {
    decode_text(bytes).trim().to_string()
}

impl StatusInformation {
    pub fn from_data(data: &[u8]) -> Result<StatusInformation, ZvtCodecError> {
        let mut s = StatusInformation::default();
        for b in parse_bmps(data)? {
            let v = &b.value;
            match b.tag {
                0x27 => s.result_code = Some(v[0]),
                0x04 => s.amount = Some(bcd::decode(v)?),
                0x49 => s.currency = Some(bcd::decode(v)? as u16),
                0x0B => s.trace_no = Some(bcd::decode(v)? as u32),
                0x87 => s.receipt_no = Some(bcd::decode(v)? as u32),
                0x29 => s.terminal_id = Some(bcd::masked_digits(v)),
                0x0C => s.time = Some(bcd::decode(v)? as u32),
                0x0D => s.date = Some(bcd::decode(v)? as u32),
                0x8B => s.card_name = Some(ascii_trimmed(v)),
                0x8A => s.card_type = Some(v[0]),
                0x22 => {
                    let digits = bcd::masked_digits(v);
                    let n = digits.chars().count();
                    let last4: String = digits.chars().skip(n.saturating_sub(4)).collect();
                    s.pan_last4 = (last4.len() == 4 && last4.bytes().all(|c| c.is_ascii_digit()))
                        .then_some(last4);
                }
                0x3B => {
                    let code = ascii_trimmed(v);
                    s.approval_code = (!code.is_empty()).then_some(code);
                }
                0x3C => s.additional_text = Some(decode_text(v)),
                0x60 => {
                    // Per card brand: 1 byte count + 6 bytes BCD total, after 4 bytes of
                    // receipt range.
                    let groups = v.get(4..).unwrap_or(&[]);
                    let count = groups.chunks(7).map(|g| u32::from(g[0])).sum::<u32>();
                    s.transaction_count = Some(count);
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Encodes as a 04 0F APDU (used by the simulator). The PAN is written masked: `E` for
    /// hidden digits, only the last four in clear.
    pub fn to_apdu(&self) -> Result<Apdu, ZvtCodecError> {
        let mut d = Vec::new();
        if let Some(rc) = self.result_code {
            push_bmp(&mut d, 0x27, &[rc])?;
        }
        if let Some(a) = self.amount {
            push_bmp(&mut d, 0x04, &bcd::encode(a, 6)?)?;
        }
        if let Some(c) = self.currency {
            push_bmp(&mut d, 0x49, &bcd::encode(u64::from(c), 2)?)?;
        }
        if let Some(t) = self.time {
            push_bmp(&mut d, 0x0C, &bcd::encode(u64::from(t), 3)?)?;
        }
        if let Some(t) = self.date {
            push_bmp(&mut d, 0x0D, &bcd::encode(u64::from(t), 2)?)?;
        }
        if let Some(last4) = &self.pan_last4 {
            let digits: u64 = last4
                .parse()
                .map_err(|_| ZvtCodecError::Malformed("PAN digits".into()))?;
            let mut pan = vec![0xEE; 6];
            pan.extend(bcd::encode(digits, 2)?);
            push_bmp(&mut d, 0x22, &pan)?;
        }
        if let Some(r) = self.receipt_no {
            push_bmp(&mut d, 0x87, &bcd::encode(u64::from(r), 2)?)?;
        }
        if let Some(code) = &self.approval_code {
            let mut v = encode_text(code);
            v.resize(8, 0);
            push_bmp(&mut d, 0x3B, &v)?;
        }
        if let Some(t) = self.trace_no {
            push_bmp(&mut d, 0x0B, &bcd::encode(u64::from(t), 3)?)?;
        }
        if let Some(tid) = &self.terminal_id {
            let n: u64 = tid
                .parse()
                .map_err(|_| ZvtCodecError::Malformed("terminal id".into()))?;
            push_bmp(&mut d, 0x29, &bcd::encode(n, 4)?)?;
        }
        if let Some(ct) = self.card_type {
            push_bmp(&mut d, 0x8A, &[ct])?;
        }
        if let Some(name) = &self.card_name {
            let mut v = encode_text(name);
            v.push(0);
            push_bmp(&mut d, 0x8B, &v)?;
        }
        if let Some(text) = &self.additional_text {
            push_bmp(&mut d, 0x3C, &encode_text(text))?;
        }
        if let Some(count) = self.transaction_count {
            // Receipt range 0000-0000, then one "others" group carrying the count and total.
            let mut v = vec![0, 0, 0, 0];
            v.push(count.min(255) as u8);
            v.extend(bcd::encode(self.amount.unwrap_or(0), 6)?);
            push_bmp(&mut d, 0x60, &v)?;
        }
        Ok(Apdu::new(0x04, 0x0F, d))
    }
}

impl PtMessage {
    pub fn from_apdu(a: &Apdu) -> Result<PtMessage, ZvtCodecError> {
        Ok(match (a.class, a.instr) {
            (0x80, 0x00) | (0x84, 0x00) => PtMessage::Ack,
            (0x84, code) => PtMessage::Nak(code),
            (0x04, 0xFF) => PtMessage::Intermediate {
                status: *a.data.first().ok_or(ZvtCodecError::Truncated)?,
            },
            (0x04, 0x0F) => PtMessage::Status(Box::new(StatusInformation::from_data(&a.data)?)),
            (0x06, 0xD1) => {
                let (&attribute, text) = a.data.split_first().ok_or(ZvtCodecError::Truncated)?;
                PtMessage::PrintLine {
                    attribute,
                    text: decode_text(text),
                }
            }
            (0x06, 0xD3) => {
                let mut receipt_type = None;
                let mut lines = Vec::new();
                for bmp in parse_bmps(&a.data)? {
                    if bmp.tag != 0x06 {
                        continue;
                    }
                    for tlv in parse_tlv(&bmp.value)? {
                        match tlv.tag {
                            0x1F07 => receipt_type = tlv.value.first().copied(),
                            0x25 => {
                                for line in tlv.children()? {
                                    if line.tag == 0x07 {
                                        lines.push(decode_text(&line.value));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                PtMessage::TextBlock {
                    receipt_type,
                    lines,
                }
            }
            (0x06, 0x0F) => {
                // Some completions (after a status enquiry) start with an LLLVAR software
                // version and a status byte; only the plain BMP form is read here.
                let bmps = parse_bmps(&a.data).unwrap_or_default();
                PtMessage::Completion {
                    terminal_id: bmps
                        .iter()
                        .find(|b| b.tag == 0x29)
                        .map(|b| bcd::masked_digits(&b.value)),
                    status_byte: bmps.iter().find(|b| b.tag == 0x19).map(|b| b.value[0]),
                }
            }
            (0x06, 0x1E) => PtMessage::Abort {
                code: a.data.first().copied().unwrap_or(0xFF),
            },
            _ => PtMessage::Other(a.clone()),
        })
    }

    pub fn to_apdu(&self) -> Result<Apdu, ZvtCodecError> {
        Ok(match self {
            PtMessage::Ack => Apdu::new(0x80, 0x00, vec![]),
            PtMessage::Nak(code) => Apdu::new(0x84, *code, vec![]),
            PtMessage::Intermediate { status } => Apdu::new(0x04, 0xFF, vec![*status]),
            PtMessage::Status(s) => s.to_apdu()?,
            PtMessage::PrintLine { attribute, text } => {
                let mut d = vec![*attribute];
                d.extend(encode_text(text));
                Apdu::new(0x06, 0xD1, d)
            }
            PtMessage::TextBlock {
                receipt_type,
                lines,
            } => {
                let mut texts = Vec::new();
                for l in lines {
                    push_tlv(&mut texts, 0x07, &encode_text(l));
                }
                let mut tlv = Vec::new();
                if let Some(t) = receipt_type {
                    push_tlv(&mut tlv, 0x1F07, &[*t]);
                }
                push_tlv(&mut tlv, 0x25, &texts);
                let mut d = Vec::new();
                push_bmp(&mut d, 0x06, &tlv)?;
                Apdu::new(0x06, 0xD3, d)
            }
            PtMessage::Completion {
                terminal_id,
                status_byte,
            } => {
                let mut d = Vec::new();
                if let Some(s) = status_byte {
                    push_bmp(&mut d, 0x19, &[*s])?;
                }
                if let Some(tid) = terminal_id {
                    let n: u64 = tid
                        .parse()
                        .map_err(|_| ZvtCodecError::Malformed("terminal id".into()))?;
                    push_bmp(&mut d, 0x29, &bcd::encode(n, 4)?)?;
                }
                Apdu::new(0x06, 0x0F, d)
            }
            PtMessage::Abort { code } => Apdu::new(0x06, 0x1E, vec![*code]),
            PtMessage::Other(a) => a.clone(),
        })
    }
}
