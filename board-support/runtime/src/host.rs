//! Files on the host, read and written through semihosting (paths relative to where QEMU runs).

use core::ffi::CStr;

use semihosting::fs::File;
use semihosting::io::{Read, Write};

pub use semihosting::io::Error;

/// Fills `dest` with the whole content of the host file `path` (raw little-endian elements).
pub fn read<T: bytemuck::Pod>(path: &CStr, dest: &mut [T]) -> Result<(), Error> {
    File::open(path)?.read_exact(bytemuck::cast_slice_mut(dest))
}

/// Reads at most `buf.len()` bytes of the host file `path`; returns the bytes read.
pub fn read_bytes<'a>(path: &CStr, buf: &'a mut [u8]) -> Result<&'a [u8], Error> {
    let mut file = File::open(path)?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    Ok(&buf[..len])
}

/// Writes `data` (raw little-endian elements) to the host file `path`, replacing it.
pub fn write<T: bytemuck::Pod>(path: &CStr, data: &[T]) -> Result<(), Error> {
    File::create(path)?.write_all(bytemuck::cast_slice(data))
}
