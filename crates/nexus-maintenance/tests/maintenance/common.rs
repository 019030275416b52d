//! Helpers shared by the maintenance tests.

/// A small photo: an 8×8 PNG, as a phone's camera might send (smaller).
pub fn photo_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 8, 8);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[200u8; 8 * 8 * 3]).unwrap();
    writer.finish().unwrap();
    out
}
