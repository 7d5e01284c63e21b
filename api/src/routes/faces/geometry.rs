//! Boxes on pictures: faces and text are stored in the unedited picture's coordinates and
//! shown on the edited one (cropped, turned, mirrored); a face drawn on the edited picture goes
//! back the other way. Immich's arithmetic, step for step, so boxes land on the same pixels.

use darkroom_storage::faces::{AssetGeometry, Face};
use darkroom_storage::ocr::OcrBox;
use serde_json::Value;

use super::AssetOcrResponseDto;

/// The original picture's size as it is seen: EXIF sides, swapped when the orientation turns
/// the picture on its side; (0, 0) when unknown.
pub(super) fn original_size(geometry: &AssetGeometry) -> (i32, i32) {
    if geometry.width == 0 || geometry.height == 0 {
        return (0, 0);
    }
    let turned = geometry
        .orientation
        .as_deref()
        .and_then(|o| o.trim().parse::<f64>().ok())
        .is_some_and(|o| [5.0, 6.0, 7.0, 8.0, -90.0, 90.0].contains(&o));
    if turned {
        (geometry.height, geometry.width)
    } else {
        (geometry.width, geometry.height)
    }
}

pub(super) fn face_box(face: &Face) -> [i64; 6] {
    [face.x1, face.y1, face.x2, face.y2, face.image_width, face.image_height].map(i64::from)
}

/// A face's box on the edited picture: (x1, y1, x2, y2, image width, image height).
pub(super) fn shown_face_box(face: &Face, geometry: &AssetGeometry) -> [i64; 6] {
    let edits = parse_edits(&geometry.edits);
    let (width, height) = original_size(geometry);
    // Without sizes the edits cannot be applied; the stored box is the best answer.
    if edits.is_empty() || width == 0 || height == 0 || face.image_width == 0 || face.image_height == 0 {
        return face_box(face);
    }
    let scale_x = f64::from(width) / f64::from(face.image_width);
    let scale_y = f64::from(height) / f64::from(face.image_height);
    let mut points = [
        (f64::from(face.x1) * scale_x, f64::from(face.y1) * scale_y),
        (f64::from(face.x2) * scale_x, f64::from(face.y2) * scale_y),
    ];
    let (out_width, out_height) = transform_points(&mut points, &edits, (f64::from(width), f64::from(height)), false);
    let [a, b] = points;
    [
        a.0.min(b.0).trunc(),
        a.1.min(b.1).trunc(),
        a.0.max(b.0).trunc(),
        a.1.max(b.1).trunc(),
        out_width,
        out_height,
    ]
    .map(|v| v as i64)
}

pub(super) fn shown_ocr_box(ocr: OcrBox, edits: &[Edit], (width, height): (f64, f64)) -> AssetOcrResponseDto {
    let mut corners = ocr.corners;
    if !edits.is_empty() && width > 0.0 && height > 0.0 {
        let mut points = corners.map(|(x, y)| (x * width, y * height));
        let (out_width, out_height) = transform_points(&mut points, edits, (width, height), false);
        // Keep the corners in reading order (top left first, clockwise) after a turn.
        let turn = edits
            .iter()
            .find_map(|e| {
                if let Edit::Rotate(angle) = e {
                    Some(*angle)
                } else {
                    None
                }
            })
            .unwrap_or(0.0);
        let shift = match turn as i64 {
            90 => 3,
            180 => 2,
            270 => 1,
            _ => 0,
        };
        points.rotate_left(shift);
        corners = points.map(|(x, y)| (x / out_width, y / out_height));
    }
    let [(x1, y1), (x2, y2), (x3, y3), (x4, y4)] = corners;
    AssetOcrResponseDto {
        id: ocr.id,
        asset_id: ocr.asset_id,
        x1,
        y1,
        x2,
        y2,
        x3,
        y3,
        x4,
        y4,
        box_score: ocr.box_score,
        text_score: ocr.text_score,
        text: ocr.text,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Edit {
    Crop {
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
    Rotate(f64),
    /// `true`: about the vertical axis (left and right swap).
    Mirror(bool),
}

/// Edits as stored (`action`, `parameters`); malformed ones are left out.
pub(super) fn parse_edits(stored: &[(String, Value)]) -> Vec<Edit> {
    let number = |p: &Value, key: &str| p.get(key).and_then(Value::as_f64);
    stored
        .iter()
        .filter_map(|(action, p)| match action.as_str() {
            "crop" => Some(Edit::Crop {
                x: number(p, "x")?,
                y: number(p, "y")?,
                width: number(p, "width")?,
                height: number(p, "height")?,
            }),
            "rotate" => Some(Edit::Rotate(number(p, "angle")?)),
            "mirror" => match p.get("axis").and_then(Value::as_str)? {
                "horizontal" => Some(Edit::Mirror(true)),
                "vertical" => Some(Edit::Mirror(false)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A 2-D affine map `(x, y) -> (a·x + c·y + e, b·x + d·y + f)`.
#[derive(Debug, Clone, Copy)]
struct Affine {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    e: f64,
    f: f64,
}

impl Affine {
    fn translate(x: f64, y: f64) -> Self {
        Self {
            a: 1.0,
            b: 0.0,
            c: 0.0,
            d: 1.0,
            e: x,
            f: y,
        }
    }

    fn rotate(radians: f64) -> Self {
        let (sin, cos) = radians.sin_cos();
        Self {
            a: cos,
            b: sin,
            c: -sin,
            d: cos,
            e: 0.0,
            f: 0.0,
        }
    }

    fn scale(x: f64, y: f64) -> Self {
        Self {
            a: x,
            b: 0.0,
            c: 0.0,
            d: y,
            e: 0.0,
            f: 0.0,
        }
    }

    /// `self · o`: the map that applies `o` first, then `self`.
    fn times(self, o: Self) -> Self {
        Self {
            a: self.a * o.a + self.c * o.b,
            c: self.a * o.c + self.c * o.d,
            e: self.a * o.e + self.c * o.f + self.e,
            b: self.b * o.a + self.d * o.b,
            d: self.b * o.c + self.d * o.d,
            f: self.b * o.e + self.d * o.f + self.f,
        }
    }

    fn apply(self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f)
    }
}

/// Moves `points` (pixels of a picture `size` large) through `edits` — or back, with
/// `inverse` — and returns the size of the picture they end on. The crop comes first going
/// forward and last going back; turns and mirrors are about the picture's centre.
pub(super) fn transform_points(
    points: &mut [(f64, f64)],
    edits: &[Edit],
    size: (f64, f64),
    inverse: bool,
) -> (f64, f64) {
    let (mut width, mut height) = size;
    let crop = edits.iter().find_map(|e| {
        if let Edit::Crop { x, y, width, height } = e {
            Some((*x, *y, *width, *height))
        } else {
            None
        }
    });
    if !inverse && let Some((x, y, crop_width, crop_height)) = crop {
        points.iter_mut().for_each(|p| *p = (p.0 - x, p.1 - y));
        (width, height) = (crop_width, crop_height);
    }
    let ordered: Vec<&Edit> = if inverse {
        edits.iter().rev().collect()
    } else {
        edits.iter().collect()
    };
    for edit in ordered {
        let matrix = match *edit {
            Edit::Rotate(angle) => {
                let radians = angle * std::f64::consts::PI / 180.0;
                let sideways = angle == 90.0 || angle == 270.0;
                let (new_width, new_height) = if sideways { (height, width) } else { (width, height) };
                let turn = Affine::rotate(if inverse { -radians } else { radians });
                let matrix = Affine::translate(new_width / 2.0, new_height / 2.0)
                    .times(turn)
                    .times(Affine::translate(-width / 2.0, -height / 2.0));
                (width, height) = (new_width, new_height);
                matrix
            }
            Edit::Mirror(about_vertical) => {
                let flip = if about_vertical {
                    Affine::scale(-1.0, 1.0)
                } else {
                    Affine::scale(1.0, -1.0)
                };
                Affine::translate(width / 2.0, height / 2.0)
                    .times(flip)
                    .times(Affine::translate(-width / 2.0, -height / 2.0))
            }
            Edit::Crop { .. } => continue,
        };
        points.iter_mut().for_each(|p| *p = matrix.apply(*p));
    }
    if inverse && let Some((x, y, _, _)) = crop {
        points.iter_mut().for_each(|p| *p = (p.0 + x, p.1 + y));
    }
    (width, height)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn crop_then_turn_moves_points_onto_the_edited_picture() {
        let edits = [
            Edit::Crop {
                x: 10.0,
                y: 20.0,
                width: 100.0,
                height: 50.0,
            },
            Edit::Rotate(90.0),
        ];
        let mut points = [(10.0, 20.0), (110.0, 70.0)];
        let size = transform_points(&mut points, &edits, (400.0, 300.0), false);
        assert_eq!(size, (50.0, 100.0));
        // The crop's top-left corner ends at the top-right of the turned picture.
        assert!(close(points[0], (50.0, 0.0)), "{points:?}");
        assert!(close(points[1], (0.0, 100.0)), "{points:?}");
        // And back again, from the edited picture's size.
        let size = transform_points(&mut points, &edits, (50.0, 100.0), true);
        assert_eq!(size, (100.0, 50.0));
        assert!(
            close(points[0], (10.0, 20.0)) && close(points[1], (110.0, 70.0)),
            "{points:?}"
        );
    }

    #[test]
    fn mirrors_swap_sides() {
        let mut points = [(0.0, 0.0)];
        transform_points(&mut points, &[Edit::Mirror(true)], (100.0, 50.0), false);
        assert!(close(points[0], (100.0, 0.0)));
        let mut points = [(0.0, 0.0)];
        transform_points(&mut points, &[Edit::Mirror(false)], (100.0, 50.0), false);
        assert!(close(points[0], (0.0, 50.0)));
    }

    #[test]
    fn text_boxes_keep_reading_order_after_a_half_turn() {
        let ocr = OcrBox {
            id: Uuid::nil(),
            asset_id: Uuid::nil(),
            corners: [(0.1, 0.1), (0.3, 0.1), (0.3, 0.2), (0.1, 0.2)],
            box_score: 0.9,
            text_score: 0.8,
            text: "hi".into(),
        };
        let shown = shown_ocr_box(ocr, &[Edit::Rotate(180.0)], (100.0, 100.0));
        assert!(
            close((shown.x1, shown.y1), (0.7, 0.8)) && close((shown.x3, shown.y3), (0.9, 0.9)),
            "{shown:?}"
        );
    }
}
