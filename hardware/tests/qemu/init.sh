#!/bin/busybox sh
# PID 1 of the QEMU guest built by run.sh: runs the HID scanner test and the USB printer test
# with the project's real drivers, prints markers that run.sh checks, and powers off.
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "=== guest kernel $(uname -r)"

echo "=== HID scanner: uinput device -> HidScanner (evdev, exclusive grab)"
modprobe evdev; modprobe uinput
if /usr/bin/qemu_hid_scanner; then echo "=== HID test passed"; else echo "=== HID-SCANNER-FAILED"; fi

echo "=== USB printer: gadget (dummy_hcd + configfs f_printer) <- UsbTransport + EscPosPrinter"
modprobe dummy_hcd; modprobe libcomposite; modprobe usb_f_printer; modprobe usblp
mount -t configfs none /sys/kernel/config
G=/sys/kernel/config/usb_gadget/pos; mkdir $G; cd $G
echo 0x04b8 > idVendor; echo 0x0e15 > idProduct
mkdir strings/0x409; echo "FakeEpson" > strings/0x409/manufacturer; echo "TM-FAKE" > strings/0x409/product
mkdir configs/c.1; mkdir functions/printer.usb0
echo "MFG:EPSON;CMD:ESC/POS;MDL:TM-FAKE;CLS:PRINTER;" > functions/printer.usb0/pnp_string
ln -s functions/printer.usb0 configs/c.1/
echo dummy_udc.0 > UDC; cd /
sleep 1
ls /dev/usb/lp* 2>/dev/null && echo "usblp bound the printer (our driver must detach it)"
/usr/bin/qemu_gadget_printer /dev/g_printer0 /cap.bin &
if /usr/bin/qemu_usb_printer /job.bin; then echo "=== USB test passed"; else echo "=== USB-PRINTER-FAILED"; fi
sleep 1
if cmp /cap.bin /job.bin; then echo "CAPTURE-MATCH $(wc -c < /cap.bin) bytes"; else echo "CAPTURE-MISMATCH"; hexdump -C /cap.bin | tail -5; fi
echo "=== done"
poweroff -f
