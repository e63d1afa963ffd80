//! RP2040: the ROM copies 256 bytes from the start of flash and runs them to set up XIP.

#[link_section = ".boot2"]
#[used]
static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;
