//! Screenshots of the real window, read from the X display it is shown on.
//! WebKitWebDriver's own screenshot command never returns under Xvfb (it waits
//! for a compositor frame that a display without a GPU never delivers), so the
//! suite reads the pixels from the X server instead: what a person would see.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, ImageOrder};

/// A rectangle on the screen, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// Save the part of the X display `$DISPLAY` inside `area` as a PNG at `path`.
pub fn capture(area: Area, path: &Path) -> Result<()> {
    let (conn, screen_number) =
        x11rb::connect(None).context("cannot connect to the X display in $DISPLAY")?;
    let setup = conn.setup();
    let screen = setup
        .roots
        .get(screen_number)
        .context("the X display has no such screen")?;
    let area = clamp(
        area,
        i64::from(screen.width_in_pixels),
        i64::from(screen.height_in_pixels),
    )?;
    let format = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == screen.root_depth)
        .context("the X display does not describe its pixel format")?;
    if format.bits_per_pixel != 32 || setup.image_byte_order != ImageOrder::LSB_FIRST {
        bail!(
            "unsupported X pixel format: {} bits per pixel, {:?}",
            format.bits_per_pixel,
            setup.image_byte_order
        );
    }
    // clamp() keeps every coordinate inside the screen, whose size is a u16.
    let [x, y] = [area.x, area.y].map(|v| i16::try_from(v).unwrap_or(0));
    let [width, height] = [area.width, area.height].map(|v| u16::try_from(v).unwrap_or(0));
    let image = conn
        .get_image(
            ImageFormat::Z_PIXMAP,
            screen.root,
            x,
            y,
            width,
            height,
            u32::MAX,
        )?
        .reply()
        .context("the X server refused to hand over the screen's pixels")?;
    let pixels = usize::from(width) * usize::from(height);
    ensure!(
        image.data.len() >= pixels * 4,
        "the X server sent a short image"
    );
    // Z-pixmap, 32 bits, least significant byte first: blue, green, red, unused.
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(4)
        .take(pixels)
        .flat_map(|bgrx| [bgrx[2], bgrx[1], bgrx[0]])
        .collect();
    write_png(path, u32::from(width), u32::from(height), &rgb)
}

/// `area` cut to the screen; an area wholly off screen is an error.
fn clamp(area: Area, screen_width: i64, screen_height: i64) -> Result<Area> {
    let x = area.x.clamp(0, screen_width);
    let y = area.y.clamp(0, screen_height);
    let right = (area.x + area.width).clamp(0, screen_width);
    let bottom = (area.y + area.height).clamp(0, screen_height);
    ensure!(
        right > x && bottom > y,
        "the window {area:?} is not on the screen"
    );
    Ok(Area {
        x,
        y,
        width: right - x,
        height: bottom - y,
    })
}

fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Area, clamp};

    #[test]
    fn clamps_a_window_to_the_screen() {
        let cases = [
            (
                Area {
                    x: 40,
                    y: 10,
                    width: 1200,
                    height: 780,
                },
                Some(Area {
                    x: 40,
                    y: 10,
                    width: 1200,
                    height: 780,
                }),
            ),
            (
                Area {
                    x: -20,
                    y: 700,
                    width: 200,
                    height: 300,
                },
                Some(Area {
                    x: 0,
                    y: 700,
                    width: 180,
                    height: 100,
                }),
            ),
            (
                Area {
                    x: 2000,
                    y: 0,
                    width: 100,
                    height: 100,
                },
                None,
            ),
        ];
        for (area, expected) in cases {
            assert_eq!(clamp(area, 1280, 800).ok(), expected, "{area:?}");
        }
    }
}
