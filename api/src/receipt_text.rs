//! A plain-text layout of receipt content, for the preview when no printer profile is at hand.
//! Display width counts East Asian wide characters as two columns.

use crate::receipt::ReceiptContent;
use unicode_width::UnicodeWidthStr;

fn two_cols(left: &str, right: &str, width: usize) -> String {
    let (lw, rw) = (left.width(), right.width());
    if lw + 1 + rw <= width {
        format!("{left}{}{right}", " ".repeat(width - lw - rw))
    } else {
        format!("{left}\n{}{right}", " ".repeat(width.saturating_sub(rw)))
    }
}

fn center(s: &str, width: usize) -> String {
    let w = s.width();
    if w >= width {
        s.to_owned()
    } else {
        format!("{}{s}", " ".repeat((width - w) / 2))
    }
}

pub fn plain_text(c: &ReceiptContent, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let rule = "-".repeat(width);
    out.extend(c.header.iter().map(|h| center(h, width)));
    if let Some(t) = &c.title {
        out.push(center(t, width));
    }
    out.push(rule.clone());
    for (k, v) in &c.meta {
        out.push(two_cols(k, v, width));
    }
    out.push(rule.clone());
    for i in &c.items {
        let name = match &i.mark {
            Some(m) => format!("{} {m}", i.name),
            None => i.name.clone(),
        };
        match &i.detail {
            Some(d) => {
                out.push(name);
                out.push(two_cols(&format!("  {d}"), &i.amount, width));
            }
            None => out.push(two_cols(&name, &i.amount, width)),
        }
        for (k, v) in &i.adjustments {
            out.push(two_cols(&format!("  {k}"), v, width));
        }
    }
    out.push(rule.clone());
    for r in &c.totals {
        out.push(two_cols(&r.label, &r.amount, width));
    }
    out.push(rule.clone());
    for r in &c.tenders {
        out.push(two_cols(&r.label, &r.amount, width));
    }
    out.extend(c.notes.iter().cloned());
    out.push(center(&format!("[{}]", c.code), width));
    out.extend(c.footer.iter().map(|f| center(f, width)));
    out.into_iter()
        .flat_map(|l| l.split('\n').map(str::to_owned).collect::<Vec<_>>())
        .collect()
}
