//! Differentiable Binarization post-processing, as RapidOCR's `DBPostProcess` does it with the
//! parameters Immich gives it: the probability map thresholded and dilated, a box per region
//! border, boxes scored, grown and mapped back onto the image.

use super::geometry::{self, PointF, PointI};

/// How a box's score is measured on the probability map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreMode {
    /// The mean probability inside the box's rectangle.
    Fast,
    /// The mean probability inside the region's border.
    Slow,
}

/// Immich's parameters for RapidOCR's `DBPostProcess`.
#[derive(Debug, Clone, Copy)]
pub struct DbPostProcess {
    /// Probability above which a pixel is text.
    pub threshold: f32,
    /// Least score a box keeps (the request's `minScore`).
    pub box_threshold: f64,
    pub max_candidates: usize,
    pub unclip_ratio: f64,
    /// Dilate the text pixels with a 2×2 square first.
    pub dilate: bool,
    pub score_mode: ScoreMode,
}

impl Default for DbPostProcess {
    fn default() -> Self {
        Self {
            threshold: 0.3,
            box_threshold: 0.5,
            max_candidates: 1000,
            unclip_ratio: 1.6,
            dilate: true,
            score_mode: ScoreMode::Fast,
        }
    }
}

/// Sides of a box before growing it shorter than this are dropped; after growing, shorter than
/// this plus 2.
const MIN_SIZE: f32 = 3.0;

/// A probability map: `height` rows of `width` values.
#[derive(Debug, Clone, Copy)]
pub struct ProbabilityMap<'a> {
    pub values: &'a [f32],
    pub width: usize,
    pub height: usize,
}

impl DbPostProcess {
    /// The boxes of `map` in the pixel coordinates of an image of `image_width` × `image_height`
    /// (corners top-left, top-right, bottom-right, bottom-left) and their scores.
    pub fn boxes(&self, map: ProbabilityMap<'_>, image_width: u32, image_height: u32) -> (Vec<[PointF; 4]>, Vec<f32>) {
        let ProbabilityMap { values, width, height } = map;
        let mut text: Vec<u8> = values.iter().map(|&p| u8::from(p > self.threshold)).collect();
        if self.dilate {
            text = dilate_2x2(&text, width, height);
        }
        let contours = geometry::find_contours(&text, width, height);
        let mut boxes = Vec::new();
        let mut scores = Vec::new();
        for contour in contours.iter().take(self.max_candidates) {
            let points: Vec<PointF> = contour.iter().map(|&[x, y]| [x as f32, y as f32]).collect();
            let (corners, short_side) = mini_box(&points);
            if short_side < MIN_SIZE {
                continue;
            }
            let score = match self.score_mode {
                ScoreMode::Fast => mean_inside_box(map, &corners),
                ScoreMode::Slow => mean_inside_contour(map, contour),
            };
            if self.box_threshold > score {
                continue;
            }
            let grown = self.unclip(&corners);
            let grown: Vec<PointF> = grown.iter().map(|&[x, y]| [x as f32, y as f32]).collect();
            if grown.is_empty() {
                continue;
            }
            let (corners, short_side) = mini_box(&grown);
            if short_side < MIN_SIZE + 2.0 {
                continue;
            }
            let scaled = corners.map(|[x, y]| [scale(x, width, image_width), scale(y, height, image_height)]);
            boxes.push(scaled);
            scores.push(score as f32);
        }
        keep_visible(boxes, scores, image_width, image_height)
    }

    /// Grows a box by its area × ratio / perimeter on every side (Clipper's rounded offset of
    /// the box's corners, taken as whole numbers).
    fn unclip(&self, corners: &[PointF; 4]) -> Vec<PointI> {
        let (area, perimeter) = geometry::area_and_perimeter(corners);
        let distance = area * self.unclip_ratio / perimeter;
        let whole: Vec<PointI> = corners.iter().map(|&[x, y]| [x as i64, y as i64]).collect();
        geometry::offset_round(&whole, distance)
    }
}

/// Maps a map coordinate onto the image (in single precision, rounding half to even, clipped to
/// the image as RapidOCR does before its final clip).
fn scale(value: f32, map_size: usize, image_size: u32) -> f32 {
    let scaled = (value / map_size as f32 * image_size as f32).round_ties_even();
    scaled.clamp(0.0, image_size as f32).trunc()
}

/// `dst(x, y) = max(src(x-1..=x, y-1..=y))`: OpenCV's dilation with a 2×2 kernel anchored at its
/// centre.
fn dilate_2x2(source: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut out = vec![0u8; source.len()];
    for y in 0..height {
        for x in 0..width {
            let at = |dx: usize, dy: usize| {
                if x >= dx && y >= dy {
                    source[(y - dy) * width + x - dx]
                } else {
                    0
                }
            };
            out[y * width + x] = at(0, 0).max(at(1, 0)).max(at(0, 1)).max(at(1, 1));
        }
    }
    out
}

/// The least-area rectangle around `points`, corners ordered as RapidOCR's `get_mini_boxes`
/// (top-left, top-right, bottom-right, bottom-left by x then y), and its shorter side.
fn mini_box(points: &[PointF]) -> ([PointF; 4], f32) {
    let rect = geometry::min_area_rect(points);
    let mut corners = rect.corners();
    corners.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (first, fourth) = if corners[1][1] > corners[0][1] { (0, 1) } else { (1, 0) };
    let (second, third) = if corners[3][1] > corners[2][1] { (2, 3) } else { (3, 2) };
    (
        [corners[first], corners[second], corners[third], corners[fourth]],
        rect.size[0].min(rect.size[1]),
    )
}

/// The mean probability inside a box (RapidOCR's `box_score_fast`).
fn mean_inside_box(map: ProbabilityMap<'_>, corners: &[PointF; 4]) -> f64 {
    let clip = |value: f32, size: usize| (value as i64).clamp(0, size as i64 - 1);
    let xs = corners.map(|c| c[0]);
    let ys = corners.map(|c| c[1]);
    let x_min = clip(xs.iter().copied().fold(f32::MAX, f32::min).floor(), map.width);
    let x_max = clip(xs.iter().copied().fold(f32::MIN, f32::max).ceil(), map.width);
    let y_min = clip(ys.iter().copied().fold(f32::MAX, f32::min).floor(), map.height);
    let y_max = clip(ys.iter().copied().fold(f32::MIN, f32::max).ceil(), map.height);
    // Shifted into the window, then truncated towards zero as NumPy's astype(int32) does.
    let polygon: Vec<PointI> = corners
        .iter()
        .map(|&[x, y]| [(x - x_min as f32) as i64, (y - y_min as f32) as i64])
        .collect();
    masked_mean(map, [x_min, y_min], [x_max, y_max], &polygon)
}

/// The mean probability inside a region's border (RapidOCR's `box_score_slow`).
fn mean_inside_contour(map: ProbabilityMap<'_>, contour: &[PointI]) -> f64 {
    let clip = |value: i64, size: usize| value.clamp(0, size as i64 - 1);
    let x_min = clip(contour.iter().map(|p| p[0]).min().unwrap_or(0), map.width);
    let x_max = clip(contour.iter().map(|p| p[0]).max().unwrap_or(0), map.width);
    let y_min = clip(contour.iter().map(|p| p[1]).min().unwrap_or(0), map.height);
    let y_max = clip(contour.iter().map(|p| p[1]).max().unwrap_or(0), map.height);
    let polygon: Vec<PointI> = contour.iter().map(|&[x, y]| [x - x_min, y - y_min]).collect();
    masked_mean(map, [x_min, y_min], [x_max, y_max], &polygon)
}

/// The mean of the map over the window `from..=to` where `polygon` (window coordinates) covers
/// it, 0 when it covers nothing (OpenCV's `mean` with a mask).
fn masked_mean(map: ProbabilityMap<'_>, from: PointI, to: PointI, polygon: &[PointI]) -> f64 {
    let window_width = (to[0] - from[0] + 1) as usize;
    let window_height = (to[1] - from[1] + 1) as usize;
    let mut mask = vec![0u8; window_width * window_height];
    geometry::fill_polygon(&mut mask, window_width, polygon, 1);
    let (mut sum, mut count) = (0.0f64, 0usize);
    for row in 0..window_height {
        let y = from[1] as usize + row;
        for column in 0..window_width {
            if mask[row * window_width + column] != 0 {
                sum += f64::from(map.values[y * map.width + from[0] as usize + column]);
                count += 1;
            }
        }
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Orders each box's corners clockwise from the top-left, clips them into the image and drops
/// boxes 3 pixels or less across (RapidOCR's `filter_det_res`).
fn keep_visible(
    boxes: Vec<[PointF; 4]>,
    scores: Vec<f32>,
    image_width: u32,
    image_height: u32,
) -> (Vec<[PointF; 4]>, Vec<f32>) {
    let mut kept_boxes = Vec::with_capacity(boxes.len());
    let mut kept_scores = Vec::with_capacity(scores.len());
    for (corners, score) in boxes.into_iter().zip(scores) {
        let mut ordered = order_clockwise(corners);
        for corner in &mut ordered {
            corner[0] = corner[0].clamp(0.0, image_width as f32 - 1.0).trunc();
            corner[1] = corner[1].clamp(0.0, image_height as f32 - 1.0).trunc();
        }
        let distance = |a: PointF, b: PointF| (a[0] - b[0]).hypot(a[1] - b[1]) as i64;
        if distance(ordered[0], ordered[1]) <= 3 || distance(ordered[0], ordered[3]) <= 3 {
            continue;
        }
        kept_boxes.push(ordered);
        kept_scores.push(score);
    }
    (kept_boxes, kept_scores)
}

/// Top-left, top-right, bottom-right, bottom-left: the two left-most points by y, then the two
/// right-most by y (stable sorts, as NumPy's on four values).
fn order_clockwise(mut corners: [PointF; 4]) -> [PointF; 4] {
    corners.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut left = [corners[0], corners[1]];
    let mut right = [corners[2], corners[3]];
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bright_block_becomes_one_grown_box() {
        let (width, height) = (64, 32);
        let mut values = vec![0.0f32; width * height];
        for y in 10..20 {
            for x in 8..50 {
                values[y * width + x] = 0.9;
            }
        }
        let map = ProbabilityMap {
            values: &values,
            width,
            height,
        };
        let (boxes, scores) = DbPostProcess::default().boxes(map, 128, 64);
        assert_eq!(boxes.len(), 1);
        // The dilated border around the block counts too.
        assert!(scores[0] > 0.75, "{scores:?}");
        let [top_left, top_right, bottom_right, bottom_left] = boxes[0];
        assert!(top_left[0] < 16.0 && top_right[0] > 98.0, "{boxes:?}");
        assert!(
            top_left[1] < 20.0 && bottom_left[1] > 38.0 && bottom_right[1] == bottom_left[1],
            "{boxes:?}"
        );
        let strict = DbPostProcess {
            box_threshold: 0.85,
            ..DbPostProcess::default()
        };
        assert!(strict.boxes(map, 128, 64).0.is_empty());
    }

    #[test]
    fn dilation_reaches_right_and_down() {
        let source = [0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(dilate_2x2(&source, 3, 3), [0, 0, 0, 0, 1, 1, 0, 1, 1]);
    }
}
