//! Image calls: inspect, pull with progress, build from a tar context.

use std::collections::HashMap;

use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, ListImagesOptionsBuilder,
};
use futures_util::StreamExt;

use super::{Engine, EngineError};

/// What gorae needs to know about a local image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `sha256:...` content id.
    pub id: String,
    /// `repo@sha256:...` for images that came from a registry.
    pub repo_digests: Vec<String>,
}

/// One line of build progress: a Dockerfile step starting, or the build's own output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildProgress {
    /// `Step n/m : INSTRUCTION`.
    Step {
        n: u32,
        of: u32,
        text: String,
    },
    Output(String),
}

impl Engine {
    /// The local image for `reference`, or `None` when the engine has no such image.
    pub async fn image(&self, reference: &str) -> Result<Option<ImageInfo>, EngineError> {
        match self.docker.inspect_image(reference).await {
            Ok(image) => Ok(Some(ImageInfo {
                id: image.id.unwrap_or_default(),
                repo_digests: image.repo_digests.unwrap_or_default(),
            })),
            Err(err) => match EngineError::from(err) {
                EngineError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// The platform of a local image (`linux/arm64/v8`), if it is here.
    pub async fn platform_of(&self, reference: &str) -> Result<Option<String>, EngineError> {
        match self.docker.inspect_image(reference).await {
            Ok(image) => {
                let mut platform = format!(
                    "{}/{}",
                    image.os.unwrap_or_default(),
                    image.architecture.unwrap_or_default()
                );
                if let Some(variant) = image.variant.filter(|v| !v.is_empty()) {
                    platform.push('/');
                    platform.push_str(&variant);
                }
                Ok(Some(platform))
            }
            Err(err) => match EngineError::from(err) {
                EngineError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Every local image matching any of `references` (a repository name matches all
    /// its tags), by tag: one call instead of one inspect per image.
    pub async fn images_matching(
        &self,
        references: &[String],
    ) -> Result<HashMap<String, ImageInfo>, EngineError> {
        if references.is_empty() {
            return Ok(HashMap::new());
        }
        let filters = HashMap::from([("reference".to_string(), references.to_vec())]);
        let options = ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let mut by_tag = HashMap::new();
        for image in self.docker.list_images(Some(options)).await? {
            let info = ImageInfo {
                id: image.id,
                repo_digests: image.repo_digests,
            };
            for tag in image.repo_tags {
                by_tag.insert(tag, info.clone());
            }
        }
        Ok(by_tag)
    }

    /// Every local image, by each of its tags and by its id: one call, for runs that
    /// look images up by id (gorae.lock's), which a reference filter cannot match.
    pub async fn all_images(&self) -> Result<HashMap<String, ImageInfo>, EngineError> {
        let mut found = HashMap::new();
        for image in self
            .docker
            .list_images(None::<bollard::query_parameters::ListImagesOptions>)
            .await?
        {
            let info = ImageInfo {
                id: image.id,
                repo_digests: image.repo_digests,
            };
            for tag in image.repo_tags {
                found.insert(tag, info.clone());
            }
            found.insert(info.id.clone(), info);
        }
        Ok(found)
    }

    /// The platform this engine runs images for, as registries name it
    /// (`linux/amd64`, `linux/arm64`): the platform of every image pulled here.
    pub async fn platform(&self) -> Result<String, EngineError> {
        let version = self.docker.version().await?;
        Ok(format!(
            "{}/{}",
            version.os.unwrap_or_default(),
            version.arch.unwrap_or_default()
        ))
    }

    /// The digest the registry serves for `reference` now (for a multi-platform
    /// image, its index), asked through the engine without pulling anything.
    pub async fn registry_digest(&self, reference: &str) -> Result<String, EngineError> {
        let inspected = self.docker.inspect_registry_image(reference, None).await?;
        inspected
            .descriptor
            .digest
            .ok_or_else(|| EngineError::Api(format!("the registry gave no digest for {reference}")))
    }

    /// Pulls `reference`, reporting the overall download progress in percent
    /// whenever it changes. A registry that sends nothing for `quiet_limit` fails
    /// the pull instead of holding `up` forever.
    pub async fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        quiet_limit: std::time::Duration,
        mut on_progress: impl FnMut(u8),
    ) -> Result<(), EngineError> {
        let (repo, tag) = split_tag(reference);
        let mut options = CreateImageOptionsBuilder::default()
            .from_image(repo)
            .tag(tag);
        if let Some(platform) = platform {
            options = options.platform(platform);
        }
        let options = options.build();
        let mut stream = self.docker.create_image(Some(options), None, None);
        // Bytes done and total per layer; the sum gives the image's progress.
        let mut layers: HashMap<String, (i64, i64)> = HashMap::new();
        let mut last_percent = None;
        loop {
            let Ok(next) = tokio::time::timeout(quiet_limit, stream.next()).await else {
                return Err(EngineError::Api(format!(
                    "the registry sent nothing for {}s (GORAE_PULL_TIMEOUT sets this limit)",
                    quiet_limit.as_secs()
                )));
            };
            let Some(item) = next else { break };
            match item {
                Ok(info) => {
                    let (Some(layer), Some(detail)) = (info.id, info.progress_detail) else {
                        continue;
                    };
                    if info.status.as_deref() == Some("Downloading")
                        && let (Some(current), Some(total)) = (detail.current, detail.total)
                    {
                        layers.insert(layer, (current, total));
                    }
                    let (done, total) = layers
                        .values()
                        .fold((0, 0), |(d, t), (cd, ct)| (d + cd, t + ct));
                    if total > 0 {
                        let percent = u8::try_from(done * 100 / total).unwrap_or(100).min(100);
                        if last_percent != Some(percent) {
                            last_percent = Some(percent);
                            on_progress(percent);
                        }
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(EngineError::Api(error));
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// Builds an image from a tar of the context whose Dockerfile is `dockerfile`
    /// inside the tar; tags it `tag`. Returns the build's output on failure.
    pub async fn build(
        &self,
        context_tar: Vec<u8>,
        dockerfile: &str,
        tag: &str,
        image_labels: &HashMap<String, String>,
        build: &super::BuildOptions,
        mut on_progress: impl FnMut(BuildProgress),
    ) -> Result<(), EngineError> {
        let mut options = BuildImageOptionsBuilder::default()
            .dockerfile(dockerfile)
            .t(tag)
            .rm(true)
            .forcerm(true)
            .labels(image_labels);
        if let Some(target) = &build.target {
            options = options.target(target);
        }
        if !build.args.is_empty() {
            let args: HashMap<String, String> = build.args.clone().into_iter().collect();
            options = options.buildargs(&args);
        }
        if let Some(platform) = &build.platform {
            options = options.platform(platform);
        }
        let options = options.build();
        let body = bollard::body_full(context_tar.into());
        let mut stream = self.docker.build_image(options, None, Some(body));
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    let Some(text) = info.stream else { continue };
                    for line in text.lines().filter(|l| !l.trim().is_empty()) {
                        on_progress(parse_build_line(line));
                    }
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(EngineError::Api(error));
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Adds the name `target` (`NAME[:TAG]`, `latest` when untagged) to image `source`.
    pub async fn tag(&self, source: &str, target: &str) -> Result<(), EngineError> {
        let (repo, tag) = split_tag(target);
        let options = bollard::query_parameters::TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        self.docker.tag_image(source, Some(options)).await?;
        Ok(())
    }
}

/// Whether an image of platform `actual` (`linux/arm64/v8`, as the engine reports
/// it) is what `wanted` (a service's `platform:`) asks for: the same system and
/// architecture, and the same variant when both name one.
pub fn platform_matches(wanted: &str, actual: &str) -> bool {
    let mut wanted = wanted.split('/');
    let mut actual = actual.split('/');
    let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    same(wanted.next(), actual.next())
        && same(wanted.next(), actual.next())
        && match (wanted.next(), actual.next()) {
            (Some(w), Some(a)) => w.eq_ignore_ascii_case(a),
            _ => true,
        }
}

/// `redis:7` -> (`redis`, `7`); `host:5000/app` -> (`host:5000/app`, `latest`).
/// Without an explicit tag the engine would pull every tag of the repository.
pub fn split_tag(reference: &str) -> (&str, &str) {
    if let Some((repo, _digest)) = reference.split_once('@') {
        return (repo, &reference[repo.len() + 1..]);
    }
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (reference, "latest"),
    }
}

fn parse_build_line(line: &str) -> BuildProgress {
    // The classic builder announces steps as "Step 2/7 : COPY . .".
    if let Some(rest) = line.strip_prefix("Step ")
        && let Some((counts, text)) = rest.split_once(" : ")
        && let Some((n, of)) = counts.split_once('/')
        && let (Ok(n), Ok(of)) = (n.parse(), of.parse())
    {
        return BuildProgress::Step {
            n,
            of,
            text: text.to_string(),
        };
    }
    BuildProgress::Output(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_matches_on_system_and_architecture_and_a_variant_when_both_name_one() {
        for (wanted, actual) in [
            ("linux/amd64", "linux/amd64"),
            ("linux/arm64", "linux/arm64/v8"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm/v7", "linux/arm/v7"),
            ("Linux/AMD64", "linux/amd64"),
        ] {
            assert!(platform_matches(wanted, actual), "{wanted} {actual}");
        }
        for (wanted, actual) in [
            ("linux/arm64", "linux/amd64"),
            ("windows/amd64", "linux/amd64"),
            ("linux/arm/v7", "linux/arm/v6"),
            ("linux", "linux/amd64"),
            ("linux/amd64", "/"),
        ] {
            assert!(!platform_matches(wanted, actual), "{wanted} {actual}");
        }
    }

    #[test]
    fn split_tag_defaults_to_latest_and_keeps_registry_ports() {
        assert_eq!(split_tag("redis:7"), ("redis", "7"));
        assert_eq!(split_tag("redis"), ("redis", "latest"));
        assert_eq!(split_tag("host:5000/app"), ("host:5000/app", "latest"));
        assert_eq!(split_tag("host:5000/app:1.2"), ("host:5000/app", "1.2"));
        assert_eq!(split_tag("redis@sha256:abc"), ("redis", "sha256:abc"));
    }

    #[test]
    fn build_steps_are_recognised() {
        assert_eq!(
            parse_build_line("Step 2/7 : COPY . ."),
            BuildProgress::Step {
                n: 2,
                of: 7,
                text: "COPY . .".into()
            }
        );
        assert_eq!(
            parse_build_line(" ---> Using cache"),
            BuildProgress::Output(" ---> Using cache".into())
        );
    }
}
