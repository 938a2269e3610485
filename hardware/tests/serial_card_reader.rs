//! Real-wire card reader test: a bank card swiped on a serial magstripe reader (socat pair) is
//! refused, and none of its digits reach the event, the error text, or any log line (all
//! tracing output of the process is captured at TRACE level).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_hardware::card::{CardError, SerialCardReader};
use pos_hardware::device::{CardReader, LinkStatus, SwipeEvent};
use pos_hardware::scanner::FrameOptions;
use pos_hardware::transport::SerialSettings;
use support::{SocatPair, open_device_end};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PAN: &str = "4111111111111111";
const GIFT: &str = "6035710000000018";

/// Any 4-digit window of the PAN (so a masked "…1111" or a partial number is caught too).
fn leaks_pan(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    (0..=PAN.len() - 4)
        .map(|i| &PAN[i..i + 4])
        .find(|w| text.contains(w))
        .map(|w| format!("window {w} found; digits in text: {digits}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_card_is_refused_and_nothing_of_it_is_logged() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .without_time()
        .init();

    let pair = SocatPair::start();
    let reader = SerialCardReader::open(
        SerialSettings::new(pair.host_path(), 9600),
        FrameOptions::default(),
    );
    let mut swipes = reader.swipes();
    let mut st = reader.status();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| *s == LinkStatus::Connected),
    )
    .await
    .expect("reader connects")
    .unwrap();
    let mut dev = open_device_end(&pair.device);

    dev.write_all(
        format!("%B{PAN}^TEST/CARD^2912101000000000?;{PAN}=29121010000000000000?\r").as_bytes(),
    )
    .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), swipes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event, SwipeEvent::Refused(CardError::BankCard));
    let SwipeEvent::Refused(err) = &event else {
        unreachable!()
    };
    let shown = format!("{event:?} | {err} | {err:?}");
    assert!(
        !shown.chars().any(|c| c.is_ascii_digit()),
        "the refusal carries no digits: {shown}"
    );

    // A gift card on the same reader is read.
    dev.write_all(format!(";{GIFT}=2912101?\r").as_bytes())
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), swipes.recv())
        .await
        .unwrap()
        .unwrap();
    match &event {
        SwipeEvent::Read(card) => {
            assert_eq!(card.number.expose(), GIFT);
            assert!(
                !format!("{event:?}").contains(&GIFT[..6]),
                "Debug of a read card is redacted too"
            );
        }
        other => panic!("gift card not read: {other:?}"),
    }

    let captured = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        captured.contains("card swipe refused"),
        "the refusal itself is logged (so the capture works): {captured}"
    );
    if let Some(leak) = leaks_pan(&captured) {
        panic!("bank card digits reached the log: {leak}\n{captured}");
    }
}
