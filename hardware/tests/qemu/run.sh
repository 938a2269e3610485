#!/usr/bin/env bash
# USB and HID device test in a QEMU guest (software emulation, no KVM needed).
#
# What it covers: inside a Debian 6.1 kernel booted from a busybox initramfs,
#  - HID: a uinput keyboard-wedge "scanner" types two codes; the project's HidScanner (evdev
#    with EVIOCGRAB) emits them as scans, diagnose::list_input_devices lists the device as a
#    scanner, and a second reader of the same node receives no key (the grab works);
#  - USB: a printer gadget (dummy_hcd + configfs f_printer, VID:PID 04b8:0e15, usblp loaded)
#    is found by list_usb_printers as class 7; UsbTransport detaches usblp, claims the
#    interface; EscPosPrinter asks DLE EOT 1/2/4 over bulk OUT/IN before and after a 1.5 kB
#    receipt on bulk OUT; the gadget side answers and captures; the capture must equal the job.
# Not covered: real printers' USB quirks, hot-unplug over USB, paper-out over USB (covered on
# serial), evdev reconnect.
#
# Needs root for apt-get (qemu-system-x86 busybox-static kmod cpio) on first run; downloads the
# Debian kernel package. Run: bash hardware/tests/qemu/run.sh   (exit 0 = pass)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${POS_QEMU_WORK:-$TARGET/qemu-guest}
mkdir -p "$WORK"

missing=()
for tool in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod cpio:cpio; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get install -y -q "${missing[@]}" >/dev/null || { echo "cannot install ${missing[*]} (need root + apt)"; exit 1; }
fi

# The Debian kernel (the host kernel has no uinput, USB or gadget support).
if ! ls "$WORK"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$pkg" ] || { echo "no linux-image package found (run apt-get update)"; exit 1; }
  (cd "$WORK" && rm -f linux-image-*.deb && apt-get download "$pkg" >/dev/null && dpkg-deb -x linux-image-*.deb kernel)
fi
VMLINUZ=$(ls "$WORK"/kernel/boot/vmlinuz-* | head -1)
KVER=${VMLINUZ##*/vmlinuz-}

# The project's real drivers, built as the guest programs.
(cd "$ROOT" && cargo build -q -p pos-hardware --example qemu_hid_scanner --example qemu_usb_printer --example qemu_gadget_printer)
BIN="$TARGET/debug/examples"

R="$WORK/initramfs"
rm -rf "$R"; mkdir -p "$R"/{bin,sbin,usr/bin,dev,proc,sys,tmp,lib/modules/$KVER}
cp "$(command -v busybox)" "$R/bin/busybox"
for b in qemu_hid_scanner qemu_usb_printer qemu_gadget_printer; do
  cp "$BIN/$b" "$R/usr/bin/$b"
  for lib in $(ldd "$BIN/$b" | grep -o '/[^ ]*'); do
    mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
  done
done
KM="$WORK/kernel/lib/modules/$KVER"
cp "$KM"/modules.order "$KM"/modules.builtin* "$R/lib/modules/$KVER/" 2>/dev/null || true
mkdir -p "$R/lib/modules/$KVER/kernel/drivers" "$R/lib/modules/$KVER/kernel/fs"
cp -a "$KM/kernel/drivers/usb" "$KM/kernel/drivers/input" "$R/lib/modules/$KVER/kernel/drivers/"
cp -a "$KM/kernel/fs/configfs" "$R/lib/modules/$KVER/kernel/fs/"
depmod -b "$R" "$KVER"
cp "$HERE/init.sh" "$R/init"; chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.gz"

LOG="$WORK/guest.log"
start=$(date +%s)
timeout 600 qemu-system-x86_64 -accel tcg -cpu max -m 512 -nographic -no-reboot \
  -kernel "$VMLINUZ" -initrd "$WORK/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
  < /dev/null | tee "$LOG" | grep -E '^(===|scanned|printed|usb printers|CAPTURE|HID-|USB-|thread|usblp|modprobe|expected|the |burst|a burst)' || true
echo "guest ran $(( $(date +%s) - start )) s"

ok=1
for marker in HID-SCANNER-OK USB-PRINTER-OK CAPTURE-MATCH; do
  grep -q "$marker" "$LOG" || { echo "FAILED: no $marker in $LOG"; ok=0; }
done
if [ $ok = 1 ]; then echo "qemu device test: 3 passed, 0 failed"; exit 0; fi
exit 1
