//! The project-file parser: never a panic; a project it accepts has a known label model and
//! at least one LF source.

use labelgen::pipeline::config::Project;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(project) = Project::parse(std::path::Path::new("p/labelgen.toml"), text) else {
        return;
    };
    let settings = &project.settings;
    assert!(!settings.lfs.files.is_empty() || !settings.lfs.plugins.is_empty());
    // The model is an enum: a name the parser accepts round-trips.
    let model = settings.label_model.model;
    assert_eq!(model.name().parse(), Ok(model));
    assert_eq!(project.root, std::path::Path::new("p"));
}
