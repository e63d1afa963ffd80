//! RP2350: the boot ROM looks for an IMAGE_DEF block in the first 4 KiB of flash (datasheet 5.9).

/// Block start marker, IMAGE_TYPE item (Arm, Secure, executable, RP2350), last item, no link,
/// end marker.
#[link_section = ".start_block"]
#[used]
static IMAGE_DEF: [u32; 5] = [
    0xffff_ded3,
    0x1021_0142,
    0x0000_01ff,
    0x0000_0000,
    0xab12_3579,
];
