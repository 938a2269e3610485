//! Guest program of the QEMU device test (hardware/tests/qemu): finds the USB printer gadget
//! (class 7) with `list_usb_printers`, and prints a receipt through our real `UsbTransport` +
//! `EscPosPrinter` (kernel driver detached, interface claimed, bulk OUT for the job, bulk IN
//! for the DLE EOT answers before and after it). Writes the job to the path given as the first
//! argument so the caller can compare it with what the gadget captured. Prints
//! `USB-PRINTER-OK` on success.

use std::time::Duration;

use pos_hardware::device::{PrintJob, PrinterStatus, ReceiptPrinter};
use pos_hardware::printer::{EscPosPrinter, PrinterTimeouts};
use pos_hardware::transport::{UsbTransport, list_usb_printers};

#[tokio::main]
async fn main() {
    let out = std::env::args().nth(1).expect("path for the job bytes");
    let printers = list_usb_printers().expect("libusb works");
    println!("usb printers: {printers:?}");
    let p = printers
        .iter()
        .find(|p| p.vid == 0x04b8 && p.pid == 0x0e15)
        .expect("the printer gadget is listed as a class-7 printer");
    assert!(p.bulk_in.is_some(), "the gadget has a bulk IN endpoint");

    let printer = EscPosPrinter::new(
        Box::new(UsbTransport::new(p.vid, p.pid)),
        PrinterTimeouts {
            status: Duration::from_secs(3),
            write: Duration::from_secs(5),
        },
    );
    let status = printer
        .query_status()
        .await
        .expect("DLE EOT answered over bulk IN");
    assert_eq!(status, PrinterStatus::Online);

    let mut bytes = b"\x1b@USB RECEIPT R-9000\n".to_vec();
    for i in 0..40 {
        bytes.extend_from_slice(
            format!("{i:>2} item over USB bulk OUT      {:>6}\n", i * 10).as_bytes(),
        );
    }
    bytes.extend_from_slice(b"\x1bd\x03\x1dVB\x00");
    std::fs::write(&out, &bytes).unwrap();
    printer
        .print(&PrintJob::new("R-9000", bytes.clone()))
        .await
        .expect("job printed with status checked before and after");
    println!("printed {} bytes", bytes.len());
    println!("USB-PRINTER-OK");
}
