//! An e-mailed receipt arrives at a real SMTP server on this machine: Python's aiosmtpd
//! (Debian package `python3-aiosmtpd`), started here on 127.0.0.1 with a free port and writing
//! what it receives into a Maildir. The message is taken apart like a mail client would: the
//! recipient, the subject, the total in the HTML body (Spanish and Japanese stores) and a PDF
//! attachment with the receipt drawn in it. While the server is down the e-mail waits in the
//! queue and goes once the server is up.

mod support;

use base64::Engine;
use pos_api::Api;
use pos_api::dto::TenderKindDto;
use pos_api::events::NoEvents;
use pos_api::register::Register;
use pos_api::register::email::SmtpConfig;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{FixedClock, RegisterOnDisk};

/// The aiosmtpd process; stopped by its PID when dropped.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python that has aiosmtpd: $POS_TEST_PYTHON, the system's, or the first on PATH.
fn python_with_aiosmtpd() -> String {
    let candidates: Vec<String> = std::env::var("POS_TEST_PYTHON")
        .into_iter()
        .chain(["/usr/bin/python3".to_owned(), "python3".to_owned()])
        .collect();
    for py in &candidates {
        let ok = Command::new(py)
            .args(["-m", "aiosmtpd", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return py.clone();
        }
    }
    panic!(
        "this test needs a real SMTP server: `python3 -m aiosmtpd` is missing (tried {}). \
         Install it with `apt-get install -y python3-aiosmtpd` (or set POS_TEST_PYTHON).",
        candidates.join(", ")
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_smtp(port: u16, maildir: &Path) -> SmtpServer {
    start_smtp_with(port, maildir, &[], "aiosmtpd.handlers.Mailbox", None)
}

/// `extra`: more aiosmtpd options (e.g. a STARTTLS certificate); `handler`: the handler class,
/// importable from `pythonpath` when given.
fn start_smtp_with(
    port: u16,
    maildir: &Path,
    extra: &[&str],
    handler: &str,
    pythonpath: Option<&Path>,
) -> SmtpServer {
    let py = python_with_aiosmtpd();
    let mut cmd = Command::new(py);
    if let Some(p) = pythonpath {
        cmd.env("PYTHONPATH", p);
    }
    let child = cmd
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(extra)
        .args(["-c", handler])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aiosmtpd");
    let mut server = SmtpServer {
        child,
        maildir: maildir.to_owned(),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.child.try_wait() {
            let mut err = String::new();
            if let Some(e) = server.child.stderr.as_mut() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("aiosmtpd exited ({status}): {err}");
        }
        assert!(
            Instant::now() < deadline,
            "aiosmtpd did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

struct Till {
    _dir: tempfile::TempDir,
    db: PathBuf,
    register: Arc<Register>,
    /// The test moves it forward (to make a retry due).
    clock: Arc<FixedClock>,
    rt: tokio::runtime::Runtime,
}

/// T01 of a store in `country` with 60 demo products, at 2026-11-22 10:30 UTC until moved.
fn open(country: pos_store::Country) -> Till {
    let clock = FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC));
    let RegisterOnDisk {
        dir,
        db,
        register,
        rt,
    } = RegisterOnDisk::open(60, country, Arc::new(NoEvents), clock.clone());
    Till {
        _dir: dir,
        db,
        register,
        clock,
        rt,
    }
}

impl Till {
    /// Sells two products for exact cash; returns (sale id, total in minor units).
    fn sell(&self) -> (String, i64) {
        self.sell_with(TenderKindDto::Cash)
    }

    /// Sells two products paid in full with `kind` (cash or card).
    fn sell_with(&self, kind: TenderKindDto) -> (String, i64) {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let codes: Vec<String> = c
            .prepare(
                "SELECT b.code FROM barcode b JOIN variant v ON v.id = b.variant_id \
                 JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 2",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        self.rt.block_on(async {
            let r = &self.register;
            r.login("1234".into()).await.unwrap();
            let mut total = 0;
            for code in codes {
                total = r.scan(code).await.unwrap().total.minor;
            }
            // The demo card terminal starts in the background.
            for _ in 0..1000 {
                match r.pay(kind, total).await {
                    Ok(done) => return (done.completed.unwrap().sale_id, total),
                    Err(e)
                        if e.code == "pay.terminal_unavailable"
                            || e.code == "pay.terminal_busy" =>
                    {
                        tokio::time::sleep(Duration::from_millis(20)).await
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            panic!("the card terminal did not come up")
        })
    }

    /// Waits until the e-mail for `address` is sent; returns how long that took.
    fn wait_sent(&self, sale: &str, address: &str, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let states = self
                .rt
                .block_on(self.register.email_receipts(sale.into()))
                .unwrap();
            let st = states.iter().find(|s| s.recipient == address).unwrap();
            if st.sent {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "not sent within {within:?}: {st:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One received message, taken apart.
struct Received {
    headers: Vec<(String, String)>,
    html: String,
    pdf: Vec<u8>,
    pdf_name: String,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// Splits a MIME entity into unfolded headers and its body.
fn split_entity(raw: &str) -> (Vec<(String, String)>, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case(name)
            .then(|| v.trim_matches('"').to_owned())
    })
}

fn decode_body(headers: &[(String, String)], body: &str) -> Vec<u8> {
    let cte = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-transfer-encoding"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    match cte.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .expect("base64 body"),
        "quoted-printable" => {
            let mut out = Vec::new();
            let b = body.replace("=\n", "");
            let bytes = b.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
                    let hex =
                        std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).unwrap_or("");
                    if let Ok(v) = u8::from_str_radix(hex, 16) {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                }
                out.push(bytes[i]);
                i += 1;
            }
            out
        }
        _ => body.as_bytes().to_vec(),
    }
}

/// Decodes RFC 2047 encoded words ("=?utf-8?b?...?=").
fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("=?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let bytes = if parts[1].eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap()
        } else {
            decode_body(
                &[(
                    "content-transfer-encoding".into(),
                    "quoted-printable".into(),
                )],
                &text.replace('_', " "),
            )
        };
        out.push_str(&String::from_utf8(bytes).unwrap());
        rest = &parts[2][end + 2..];
        // Whitespace between two encoded words is not part of the text.
        if rest.trim_start().starts_with("=?") {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    out
}

fn walk(headers: &[(String, String)], body: &str, out: &mut Received) {
    let ctype = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "text/plain".into());
    if ctype.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = param(&ctype, "boundary").expect("boundary");
        let body = body.replace("\r\n", "\n");
        for part in body.split(&format!("--{boundary}")).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let (h, b) = split_entity(part.trim_start_matches('\n'));
            walk(&h, b.trim_end_matches('\n'), out);
        }
    } else if ctype.starts_with("text/html") {
        out.html = String::from_utf8(decode_body(headers, body)).unwrap();
    } else if ctype.starts_with("application/pdf") {
        out.pdf = decode_body(headers, body);
        let disp = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        out.pdf_name = param(&disp, "filename").unwrap_or_default();
    }
}

/// The messages in the Maildir addressed to `address`.
fn received_for(maildir: &Path, address: &str) -> Vec<Received> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(maildir.join("new")).unwrap() {
        let raw = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let (headers, body) = split_entity(&raw);
        let mut r = Received {
            headers,
            html: String::new(),
            pdf: Vec::new(),
            pdf_name: String::new(),
        };
        if !r.header("X-RcptTo").contains(address) {
            continue;
        }
        let h = r.headers.clone();
        walk(&h, &body, &mut r);
        out.push(r);
    }
    out
}

/// The PDF's image, inflated: (width, height, grey pixels).
fn pdf_image(pdf: &[u8]) -> (usize, usize, Vec<u8>) {
    let text = String::from_utf8_lossy(pdf);
    let dict_at = text.find("/Subtype /Image").expect("an image XObject");
    let num = |key: &str| -> usize {
        let i = text[dict_at..].find(key).unwrap() + dict_at + key.len();
        text[i..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (w, h, len) = (num("/Width"), num("/Height"), num("/Length"));
    assert!(text[dict_at..].contains("/FlateDecode"));
    let stream_at = pdf[dict_at..]
        .windows(7)
        .position(|x| x == b"stream\n")
        .unwrap()
        + dict_at
        + 7;
    let mut pixels = Vec::new();
    flate2_inflate(&pdf[stream_at..stream_at + len], &mut pixels);
    (w, h, pixels)
}

fn flate2_inflate(data: &[u8], out: &mut Vec<u8>) {
    flate2::read::ZlibDecoder::new(data)
        .read_to_end(out)
        .expect("the image stream inflates");
}

fn check_message(m: &Received, address: &str, number: &str, total: &str, subject_word: &str) {
    assert!(m.header("To").contains(address), "To: {}", m.header("To"));
    let subject = decode_words(&m.header("Subject"));
    assert!(
        subject.contains(number) && subject.contains(subject_word),
        "Subject: {subject}"
    );
    assert!(
        m.html.contains(total),
        "the HTML body shows the total {total}:\n{}",
        m.html
    );
    assert!(m.pdf.starts_with(b"%PDF-"), "a PDF attachment");
    assert_eq!(m.pdf_name, format!("{number}.pdf"));
    if let Ok(dir) = std::env::var("POS_EMAIL_DUMP") {
        // For a look at what the customer gets: the PDF and the HTML.
        let _ = std::fs::write(Path::new(&dir).join(&m.pdf_name), &m.pdf);
        let _ = std::fs::write(
            Path::new(&dir).join(format!("{number}-{subject_word}.html")),
            &m.html,
        );
    }
    let (w, h, pixels) = pdf_image(&m.pdf);
    assert_eq!(pixels.len(), w * h, "one grey byte per pixel");
    let dark = pixels.iter().filter(|p| **p < 128).count();
    assert!(
        dark > 5_000,
        "the receipt is drawn in the image ({dark} dark pixels of {})",
        w * h
    );
}

#[test]
fn an_emailed_receipt_arrives_with_its_total_and_a_pdf_and_waits_while_the_server_is_down() {
    let mail = tempfile::tempdir().unwrap();
    let maildir = mail.path().join("maildir");
    let port = free_port();

    // Spain: the server is down when the cashier sends the receipt.
    let es = open(pos_store::Country::Es);
    es.register
        .configure_email(Some(SmtpConfig::local(
            port,
            "Tienda Demo <tienda@example.com>",
        )))
        .unwrap();
    let (sale, total) = es.sell();
    let bad = es
        .rt
        .block_on(es.register.email_receipt(sale.clone(), "ana@".into()))
        .unwrap_err();
    assert_eq!(bad.code, "email.invalid_address");
    let queued_at = Instant::now();
    let st = es
        .rt
        .block_on(
            es.register
                .email_receipt(sale.clone(), "ana@example.com".into()),
        )
        .unwrap();
    let queue_ms = queued_at.elapsed().as_millis();
    assert!(!st.sent);
    // The worker tries, fails (nothing listens) and keeps it for later.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let st = es
            .rt
            .block_on(es.register.email_receipts(sale.clone()))
            .unwrap();
        if st[0].attempts >= 1 {
            assert!(!st[0].sent && st[0].last_error.is_some(), "{st:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no attempt was made");
        std::thread::sleep(Duration::from_millis(50));
    }

    let server = start_smtp(port, &maildir);
    // Time passes: the retry is due.
    *es.clock.0.lock().unwrap() += time::Duration::minutes(5);
    let es_send = es.wait_sent(&sale, "ana@example.com", Duration::from_secs(20));
    let es_total = format!("{},{:02} €", total / 100, total % 100);
    let msgs = received_for(&server.maildir, "ana@example.com");
    assert_eq!(msgs.len(), 1, "delivered once");
    check_message(
        &msgs[0],
        "ana@example.com",
        "T01-000001",
        &es_total,
        "tique",
    );
    assert!(msgs[0].html.contains("FACTURA SIMPLIFICADA"));
    let es_pdf = msgs[0].pdf.len();

    // Japan, with the server up: sent at once.
    let ja = open(pos_store::Country::Jp);
    ja.register
        .configure_email(Some(SmtpConfig::local(port, "デモ商店 <shop@example.jp>")))
        .unwrap();
    let (sale, total) = ja.sell();
    let queued_at = Instant::now();
    ja.rt
        .block_on(
            ja.register
                .email_receipt(sale.clone(), "hanako@example.jp".into()),
        )
        .unwrap();
    let ja_queue_ms = queued_at.elapsed().as_millis();
    let ja_send = ja.wait_sent(&sale, "hanako@example.jp", Duration::from_secs(20));
    let digits = total.to_string();
    let grouped = if total >= 1000 {
        format!(
            "{},{}",
            &digits[..digits.len() - 3],
            &digits[digits.len() - 3..]
        )
    } else {
        digits
    };
    let msgs = received_for(&server.maildir, "hanako@example.jp");
    assert_eq!(msgs.len(), 1);
    check_message(
        &msgs[0],
        "hanako@example.jp",
        "T01-000001",
        &format!("{grouped}円"),
        "レシート",
    );
    assert!(
        msgs[0].html.contains("登録番号"),
        "qualified invoice fields"
    );
    println!(
        "BENCH email: queue {queue_ms} ms (first, fonts loading), {ja_queue_ms} ms (next); es sent {} ms after the retry was due (pdf {es_pdf} B); ja sent {} ms after queuing (pdf {} B)",
        es_send.as_millis(),
        ja_send.as_millis(),
        msgs[0].pdf.len()
    );
    drop(server);
}

#[test]
fn starttls_is_used_when_the_local_server_offers_it() {
    // aiosmtpd with a certificate offers STARTTLS and refuses mail until it is used.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("this test needs openssl to make a certificate (Debian: openssl)");
    assert!(made.success());
    let maildir = dir.path().join("maildir");
    let port = free_port();
    let server = start_smtp_with(
        port,
        &maildir,
        &[
            "--tlscert",
            cert.to_str().unwrap(),
            "--tlskey",
            key.to_str().unwrap(),
        ],
        "aiosmtpd.handlers.Mailbox",
        None,
    );
    let es = open(pos_store::Country::Es);
    es.register
        .configure_email(Some(SmtpConfig::local(
            port,
            "Tienda Demo <tienda@example.com>",
        )))
        .unwrap();
    // Paid by card: the terminal's slip is part of the e-mail, as of the printed receipt.
    let (sale, total) = es.sell_with(TenderKindDto::Card);
    es.rt
        .block_on(
            es.register
                .email_receipt(sale.clone(), "tls@example.com".into()),
        )
        .unwrap();
    es.wait_sent(&sale, "tls@example.com", Duration::from_secs(20));
    let msgs = received_for(&server.maildir, "tls@example.com");
    assert_eq!(msgs.len(), 1);
    let es_total = format!("{},{:02} €", total / 100, total % 100);
    check_message(
        &msgs[0],
        "tls@example.com",
        "T01-000001",
        &es_total,
        "tique",
    );
    assert!(msgs[0].html.contains("Tarjeta"), "{}", msgs[0].html);
    assert!(
        msgs[0].html.contains("<pre") && msgs[0].html.contains("1234"),
        "the card slip (masked PAN) is in the e-mail: {}",
        msgs[0].html
    );
}

#[test]
fn a_recipient_the_server_refuses_for_good_is_not_retried_and_says_so() {
    // A mailbox handler that answers 550 for nobody@…, like a relay with an unknown user.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("refusing.py"),
        "from aiosmtpd.handlers import Mailbox\n\
         class Refusing(Mailbox):\n\
         \x20   async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n\
         \x20       if address.startswith('nobody@'):\n\
         \x20           return '550 5.1.1 no such user'\n\
         \x20       envelope.rcpt_tos.append(address)\n\
         \x20       return '250 OK'\n",
    )
    .unwrap();
    let maildir = dir.path().join("maildir");
    let port = free_port();
    let server = start_smtp_with(port, &maildir, &[], "refusing.Refusing", Some(dir.path()));
    let es = open(pos_store::Country::Es);
    es.register
        .configure_email(Some(SmtpConfig::local(
            port,
            "Tienda Demo <tienda@example.com>",
        )))
        .unwrap();
    let (sale, _) = es.sell();
    es.rt
        .block_on(
            es.register
                .email_receipt(sale.clone(), "nobody@example.com".into()),
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let st = loop {
        let st = es
            .rt
            .block_on(es.register.email_receipts(sale.clone()))
            .unwrap();
        if st[0].failed {
            break st;
        }
        assert!(Instant::now() < deadline, "not refused: {st:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!st[0].sent);
    assert_eq!(st[0].attempts, 1);
    assert!(
        st[0].last_error.as_deref().unwrap_or("").contains("550"),
        "{st:?}"
    );
    // Time passes; it is not tried again.
    *es.clock.0.lock().unwrap() += time::Duration::days(1);
    std::thread::sleep(Duration::from_millis(1_500));
    let st = es
        .rt
        .block_on(es.register.email_receipts(sale.clone()))
        .unwrap();
    assert_eq!(st[0].attempts, 1, "never retried");
    assert!(received_for(&server.maildir, "nobody@example.com").is_empty());
}
