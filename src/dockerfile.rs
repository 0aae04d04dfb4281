//! Reading a build's Dockerfile and the images its `FROM` lines name: shared by the
//! image builder, the lock, the task inputs and doctor, so none of them imports another
//! for it.

use std::collections::HashMap;

use crate::config::{DockerfileSource, apply_image_prefix};

/// The text of a build's Dockerfile, with the image prefix before the base images of
/// the user's own (a template's carries it already). Everything that reads the base
/// images (the build, the lock, doctor) reads them from here, so all agree on them.
pub fn dockerfile_text(dockerfile: &DockerfileSource) -> Result<String, String> {
    match dockerfile {
        DockerfileSource::Rendered { text } => Ok(text.clone()),
        DockerfileSource::File { path, base_prefix } => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("{}: {err}", path.display()))?;
            Ok(match base_prefix {
                Some(prefix) => prefix_bases(&text, prefix),
                None => text,
            })
        }
    }
}

/// `dockerfile` with `prefix` before each base image that names no registry.
fn prefix_bases(dockerfile: &str, prefix: &str) -> String {
    let prefixed = base_images(dockerfile)
        .into_iter()
        .map(|base| {
            let with_prefix = apply_image_prefix(Some(prefix), &base);
            (base, with_prefix)
        })
        .collect();
    pin_bases(dockerfile, &prefixed)
}

/// `dockerfile` with each base image in `FROM` lines replaced by its entry in `ids`
/// (reference -> image id); flags, stage names and everything else stay as written.
pub fn pin_bases(dockerfile: &str, ids: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(dockerfile.len());
    for line in dockerfile.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let is_from = trimmed
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("FROM"));
        let image = trimmed
            .split_whitespace()
            .skip(1)
            .find(|w| !w.starts_with("--"));
        match (is_from, image.and_then(|i| ids.get(i).map(|id| (i, id)))) {
            (true, Some((image, id))) => {
                // The first occurrence after `FROM` and its flags is the image.
                let at = line.len() - trimmed.len();
                let offset = trimmed[4..].find(image).map(|i| at + 4 + i).unwrap_or(at);
                out.push_str(&line[..offset]);
                out.push_str(id);
                out.push_str(&line[offset + image.len()..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Images named by `FROM` lines, skipping build stages, `scratch` and references
/// that use build arguments (those are resolved by the engine).
pub fn base_images(dockerfile: &str) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut bases = Vec::new();
    for line in dockerfile.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            continue;
        }
        let mut words = words.skip_while(|w| w.starts_with("--"));
        let Some(image) = words.next() else { continue };
        let is_stage = stages.contains(&image.to_ascii_lowercase());
        if image != "scratch"
            && !image.contains('$')
            && !is_stage
            && !bases.iter().any(|b| b == image)
        {
            bases.push(image.to_string());
        }
        if words.next().is_some_and(|w| w.eq_ignore_ascii_case("AS"))
            && let Some(stage) = words.next()
        {
            stages.push(stage.to_ascii_lowercase());
        }
    }
    bases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_own_dockerfile_takes_the_image_prefix_on_its_base_images_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("Dockerfile");
        let text = "FROM node:20 AS deps\nFROM --platform=linux/amd64 python:3.12\nFROM deps AS dev\nFROM ghcr.io/acme/x:1\nFROM scratch\nARG B\nFROM ${B}\nFROM mirror/node:20\nRUN echo FROM node:20\n";
        std::fs::write(&path, text).expect("write");
        let prefixed = DockerfileSource::File {
            path: path.clone(),
            base_prefix: Some("mirror/".into()),
        };
        assert_eq!(
            dockerfile_text(&prefixed).expect("read"),
            "FROM mirror/node:20 AS deps\nFROM --platform=linux/amd64 mirror/python:3.12\nFROM deps AS dev\nFROM ghcr.io/acme/x:1\nFROM scratch\nARG B\nFROM ${B}\nFROM mirror/node:20\nRUN echo FROM node:20\n"
        );
        let plain = DockerfileSource::File {
            path,
            base_prefix: None,
        };
        assert_eq!(dockerfile_text(&plain).expect("read"), text);
    }

    #[test]
    fn base_images_skip_stages_scratch_and_args() {
        let dockerfile = "FROM node:20 AS deps\nRUN x\nFROM --platform=linux/amd64 deps\nFROM scratch\nFROM ${BASE}\nfrom python:3.12\n";
        assert_eq!(base_images(dockerfile), ["node:20", "python:3.12"]);
    }

    #[test]
    fn pinned_bases_replace_only_the_image_of_from_lines() {
        let ids = HashMap::from([
            ("node:20".to_string(), "sha256:aaa".to_string()),
            ("python:3.12".to_string(), "sha256:bbb".to_string()),
        ]);
        let dockerfile = "FROM node:20 AS deps\nRUN echo node:20\nFROM --platform=linux/amd64 deps\nfrom  python:3.12\nFROM redis:7\nCOPY . .";
        assert_eq!(
            pin_bases(dockerfile, &ids),
            "FROM sha256:aaa AS deps\nRUN echo node:20\nFROM --platform=linux/amd64 deps\nfrom  sha256:bbb\nFROM redis:7\nCOPY . ."
        );
        // What is pinned is no longer a base image to resolve.
        assert_eq!(
            base_images(&pin_bases(dockerfile, &ids)),
            ["sha256:aaa", "sha256:bbb", "redis:7"]
        );
    }
}
