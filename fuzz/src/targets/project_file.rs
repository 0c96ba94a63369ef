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
    assert!(
        [
            "auto",
            "generative",
            "majority",
            "dawid-skene",
            "snorkel",
            "hyper"
        ]
        .contains(&settings.label_model.model.as_str())
    );
    assert_eq!(project.root, std::path::Path::new("p"));
}
