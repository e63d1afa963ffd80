//! Host demo: `mnist-bare [IMAGE.npy]` prints the predicted digit and the scores. The image is
//! 28 × 28 grey pixels (uint8, or float32 in 0..1); without one, a built-in drawing of a 7 is used.

use std::path::Path;
use std::process::ExitCode;

use mnist_bare::{digit_of, scores, Arena, PIXELS};

/// The built-in digit: one character per pixel, from '.' (background) to '@' (ink).
const SEVEN: &str = include_str!("../digits/7.txt");
const LEVELS: &str = ".,:-=+*#%@";

fn from_art(art: &str) -> [u8; PIXELS] {
    let mut image = [0u8; PIXELS];
    for (pixel, c) in image
        .iter_mut()
        .zip(art.chars().filter(|c| !c.is_whitespace()))
    {
        *pixel = (LEVELS.find(c).unwrap_or(0) * 255 / (LEVELS.len() - 1)) as u8;
    }
    image
}

/// Reads a version 1–3 `.npy` file holding 784 values of dtype uint8 or little-endian float32.
fn read_npy(path: &Path) -> Result<[u8; PIXELS], String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let not_npy = || "not a .npy file".to_string();
    if bytes.len() < 10 || !bytes.starts_with(b"\x93NUMPY") {
        return Err(not_npy());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(not_npy()),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(not_npy)?;
    let header = String::from_utf8_lossy(header);
    let data = &bytes[start + header_len..];
    if header.contains("'fortran_order': True") {
        return Err("Fortran-ordered arrays are not supported".into());
    }
    let mut image = [0u8; PIXELS];
    if header.contains("'|u1'") && data.len() == PIXELS {
        image.copy_from_slice(data);
    } else if header.contains("'<f4'") && data.len() == 4 * PIXELS {
        for (pixel, value) in image.iter_mut().zip(data.chunks_exact(4)) {
            let value = f32::from_le_bytes([value[0], value[1], value[2], value[3]]);
            *pixel = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    } else {
        return Err(format!(
            "need {PIXELS} values of dtype uint8 or float32; the header says {header}"
        ));
    }
    Ok(image)
}

fn main() -> ExitCode {
    let image = match std::env::args_os().nth(1) {
        Some(path) => match read_npy(Path::new(&path)) {
            Ok(image) => image,
            Err(e) => {
                eprintln!("error: {}: {e}", Path::new(&path).display());
                return ExitCode::FAILURE;
            }
        },
        None => from_art(SEVEN),
    };
    let mut arena = Arena::new();
    let scores = scores(&mut arena, &image);
    println!("prediction: {}", digit_of(&scores));
    let shown: Vec<String> = scores.iter().map(f32::to_string).collect();
    println!("scores: {}", shown.join(" "));
    ExitCode::SUCCESS
}
