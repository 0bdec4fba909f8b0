//! The report's charts, drawn by plotters as SVG: daily messages stacked by class, the
//! daily DMARC pass rate, and the alignment breakdown. Each shows the numbers of the
//! summary it stands beside (`--by day`, `--by alignment`). Text takes the page's colour
//! (`svg text` in the page's CSS), so the charts follow its light and dark schemes.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::CLASSES;

/// A chart could not be drawn (plotters' error, in words).
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {reason}")]
pub struct ChartError {
    chart: &'static str,
    reason: String,
}

fn failed<E: std::fmt::Display>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |e| ChartError {
        chart,
        reason: e.to_string(),
    }
}

fn colour(hex: &str) -> RGBColor {
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    RGBColor(byte(1), byte(3), byte(5))
}

const WIDTH: u32 = 960;
const LABEL_STYLE: (&str, u32) = ("sans-serif", 13);

/// The label of the period a segment stands for: `MM-DD` of a day, a month as it is.
fn period_label(periods: &[String], value: &SegmentValue<u32>) -> String {
    match value {
        SegmentValue::CenterOf(i) => periods
            .get(*i as usize)
            .map(|p| {
                if p.len() == 10 {
                    p[5..].to_owned()
                } else {
                    p.clone()
                }
            })
            .unwrap_or_default(),
        SegmentValue::Exact(_) | SegmentValue::Last => String::new(),
    }
}

/// `n` categories as plotters' segments (a range of u32 holds both its ends). At least two:
/// a range of one value has no width, and its bars came out with negative widths, which a
/// browser reports as errors; one category leaves the second segment empty.
fn segments(
    n: usize,
) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordu32> {
    (0..(n.max(2) as u32 - 1)).into_segmented()
}

/// At most this many labels on the time axis.
const TIME_LABELS: usize = 12;

/// Messages per period stacked by class: `per_day[i]` holds period i's messages per class in the
/// order of [`CLASSES`].
pub fn daily_classes(days: &[String], per_day: &[[u64; 4]]) -> Result<String, ChartError> {
    const CHART: &str = "daily messages";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        let top = per_day
            .iter()
            .map(|d| d.iter().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(70)
            .build_cartesian_2d(segments(days.len()), 0..top + top / 10)
            .map_err(failed(CHART))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days.len().min(TIME_LABELS))
            .x_label_formatter(&|v| period_label(days, v))
            .y_label_formatter(&|y| super::thousands(i128::from(*y)))
            .y_desc("messages")
            .label_style(LABEL_STYLE)
            .max_light_lines(1)
            .bold_line_style(RGBAColor(128, 128, 128, 0.3))
            .draw()
            .map_err(failed(CHART))?;
        for (k, (class, hex)) in CLASSES.iter().enumerate() {
            let fill = colour(hex);
            chart
                .draw_series(per_day.iter().enumerate().map(|(i, counts)| {
                    let base: u64 = counts[..k].iter().sum();
                    let x = i as u32;
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(x), base),
                            (SegmentValue::Exact(x + 1), base + counts[k]),
                        ],
                        fill.filled(),
                    );
                    if per_day.len() < 200 {
                        bar.set_margin(0, 0, 1, 1);
                    }
                    bar
                }))
                .map_err(failed(CHART))?
                .label(*class)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], fill.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(LABEL_STYLE)
            .background_style(RGBAColor(128, 128, 128, 0.12))
            .border_style(TRANSPARENT)
            .draw()
            .map_err(failed(CHART))?;
        root.present().map_err(failed(CHART))?;
    }
    Ok(svg)
}

/// The DMARC pass rate (percent) per period, with the periods that had no message left out.
pub fn pass_rate(days: &[String], rates: &[Option<f64>]) -> Result<String, ChartError> {
    const CHART: &str = "pass rate";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 220)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(70)
            .build_cartesian_2d(segments(days.len()), 0f64..100f64)
            .map_err(failed(CHART))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days.len().min(TIME_LABELS))
            .x_label_formatter(&|v| period_label(days, v))
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .y_desc("passing DMARC")
            .label_style(LABEL_STYLE)
            .max_light_lines(1)
            .bold_line_style(RGBAColor(128, 128, 128, 0.3))
            .draw()
            .map_err(failed(CHART))?;
        let line = colour(super::PASS_COLOUR);
        let points: Vec<(SegmentValue<u32>, f64)> = rates
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (SegmentValue::CenterOf(i as u32), r)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), line.stroke_width(2)))
            .map_err(failed(CHART))?;
        chart
            .draw_series(points.into_iter().map(|p| Circle::new(p, 3, line.filled())))
            .map_err(failed(CHART))?;
        root.present().map_err(failed(CHART))?;
    }
    Ok(svg)
}

/// Messages per alignment category (as `rua summary --by alignment` lists them), as
/// horizontal bars coloured by whether that category passes DMARC.
pub fn alignment(rows: &[(String, u64, bool)]) -> Result<String, ChartError> {
    const CHART: &str = "alignment";
    let mut svg = String::new();
    {
        let height = 40 + 34 * rows.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let top = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size(170)
            .build_cartesian_2d(0..top + top / 10, segments(rows.len()))
            .map_err(failed(CHART))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len())
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => rows
                    .get(*i as usize)
                    .map(|r| r.0.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|x| super::thousands(i128::from(*x)))
            .label_style(LABEL_STYLE)
            .max_light_lines(1)
            .bold_line_style(RGBAColor(128, 128, 128, 0.3))
            .draw()
            .map_err(failed(CHART))?;
        let (pass, fail) = (colour(super::PASS_COLOUR), colour(super::FAIL_COLOUR));
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, messages, passes))| {
                let y = i as u32;
                let mut bar = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(y)),
                        (*messages, SegmentValue::Exact(y + 1)),
                    ],
                    if *passes {
                        pass.filled()
                    } else {
                        fail.filled()
                    },
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(failed(CHART))?;
        root.present().map_err(failed(CHART))?;
    }
    Ok(svg)
}
