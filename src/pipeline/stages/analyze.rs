//! The analyze stage: the LF summary (JSON) and the HTML report.

use std::time::Instant;

use serde_json::json;

use super::{Fitted, Matrices};
use crate::analysis::analyze;
use crate::pipeline::cache::key;
use crate::pipeline::config::Project;
use crate::pipeline::manifest::CacheOutcome;
use crate::pipeline::{PipelineError, Runner, stage_error, version};

/// Analyze: the dev split with gold when there is one, else train; a JSON summary and an
/// HTML report.
pub(in crate::pipeline) fn analyze_stage(
    runner: &mut Runner<'_>,
    project: &Project,
    matrices: &Matrices,
    fitted: &Fitted,
) -> Result<(), PipelineError> {
    let started = Instant::now();
    let analyzed = matrices.dev().unwrap_or(matrices.train());
    let analyze_key = key(&json!({
        "kind": "analyze", "version": version(), "matrix": matrices.key(analyzed.name),
        "gold": (&analyzed.hash, &analyzed.gold_column), "model": fitted.key,
    }));
    let (entry, hit) = runner.cached("analyze", &analyze_key, |dir| {
        let matrix = matrices.load(analyzed.name)?;
        let gold = matrices.gold_of(analyzed)?;
        let model = fitted.model()?;
        let analysis =
            analyze(&matrix, gold.as_deref(), Some(&model)).map_err(stage_error("analyze"))?;
        std::fs::write(
            dir.join("summary.json"),
            crate::report::render_json(&analysis),
        )
        .map_err(stage_error("analyze"))?;
        let context = crate::report::html::ReportContext {
            matrix: format!("{} split ({})", analyzed.name, analyzed.path.display()),
            gold: analyzed.gold_column.clone(),
            model: Some(project.settings.label_model.model.to_string()),
            generated_by: format!("labelgen {}", version()),
            fingerprint: matrix.fingerprint(),
            samples: Vec::new(),
        };
        std::fs::write(
            dir.join("report.html"),
            crate::report::html::render_html(&analysis, &context),
        )
        .map_err(stage_error("analyze"))
    })?;
    let detail = analyzed.name.to_owned();
    runner.record("analyze", started, CacheOutcome::of_hit(hit), detail);
    runner
        .outputs
        .push(("lf_summary.json".to_owned(), entry.file("summary.json")));
    runner
        .outputs
        .push(("lf_report.html".to_owned(), entry.file("report.html")));
    Ok(())
}
