//! Device side of the QEMU USB test: plays an ESC/POS printer on the Linux printer gadget
//! (/dev/g_printer0, f_printer). Answers every DLE EOT n with 0x12 (online, paper fine) on bulk
//! IN and appends every other byte to the capture file. One thread, read then write: f_printer
//! serialises reads and writes on one lock, so a reader blocked in another thread would stall
//! the answer.

use std::fs::OpenOptions;
use std::io::{Read, Write};

fn main() {
    let dev = std::env::args().nth(1).unwrap_or("/dev/g_printer0".into());
    let cap = std::env::args().nth(2).unwrap_or("/cap.bin".into());
    let mut port = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&dev)
        .expect("open gadget");
    let mut capture = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cap)
        .unwrap();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = match port.read(&mut buf) {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) => {
                eprintln!("gadget read: {e}");
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
        };
        for &b in &buf[..n] {
            pending.push(b);
            match pending.as_slice() {
                [0x10] | [0x10, 0x04] => {}
                [0x10, 0x04, _] => {
                    pending.clear();
                    port.write_all(&[0x12]).expect("answer on bulk IN");
                    port.flush().ok();
                }
                _ => {
                    capture.write_all(&pending).unwrap();
                    pending.clear();
                }
            }
        }
    }
}
