//! Getting each service's image: use what is present, pull what is missing, build
//! app images only when their content hash is new, and say why a build runs.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::config::BuildOptions;
use crate::context::{self, BuildContext, Entry};
use crate::dockerfile::{base_images, dockerfile_text, pin_bases};
use crate::engine::{BuildProgress, Engine, EngineError, ImageInfo, labels, platform_matches};
use crate::exit::ExitCode;
use crate::hash::hex;
use crate::observe::ImageFound;
use crate::plan::{BuildPlan, ImagePlan, ServicePlan};
use crate::ui::{Event, Ui};

/// How many lines of a failed build's output are shown.
const BUILD_TAIL: usize = 25;

/// The image a container will be created from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The reference given to the engine (a tag).
    pub reference: String,
    pub info: ImageInfo,
    /// Whether a build ran for it in this command.
    pub built: bool,
    /// Whether this service's request ran that build (services sharing one image share
    /// one build, which the summary counts once).
    pub built_here: bool,
}

/// Why an image could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImageError {
    #[error(
        "cannot pull image `{image}`: {reason}\n  hint: {}",
        pull_hint(image, reason)
    )]
    Pull { image: String, reason: String },
    /// A registry that could not say what a tag names now.
    #[error(
        "cannot ask the registry about `{image}`: {reason}\n  hint: {}",
        pull_hint(image, reason)
    )]
    Registry { image: String, reason: String },
    /// gorae.lock names an image that this machine lacks and no registry can give.
    #[error(
        "gorae.lock pins `{image}` to {id}, which came from no registry and is not on this machine\n  hint: load that image (`docker load -i image.tar`), or run `gorae lock --update {service}` to lock what `{image}` names now"
    )]
    LockedOnlyById {
        service: String,
        image: String,
        id: String,
    },
    /// A pull by the locked digest gave another image than the lock records.
    #[error(
        "`{image}` pulled by its locked digest is {found}, but gorae.lock records {locked}\n  hint: the lock was edited by hand or the registry serves other content for that digest; `gorae lock --update {service}` locks what the tag names now"
    )]
    LockedIdMismatch {
        service: String,
        image: String,
        found: String,
        locked: String,
    },
    #[error("build of service `{service}` failed: {reason}\n{output}")]
    Build {
        service: String,
        reason: String,
        output: String,
    },
    /// The cause is the source, not part of this message, so it is printed once in
    /// the chain and stays reachable (an `io::Error` under a context's file); it is
    /// shared through `Arc` with every service waiting for the same build.
    #[error("cannot read the build context of service `{service}`")]
    Context {
        service: String,
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl ImageError {
    /// A build context of `service` that could not be read, because of `cause`.
    pub fn context(
        service: &str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ImageError {
        ImageError::Context {
            service: service.to_string(),
            source: Arc::from(cause.into()),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            ImageError::Pull { .. }
            | ImageError::Registry { .. }
            | ImageError::LockedOnlyById { .. } => ExitCode::ImageUnavailable,
            // The lock and the registry disagree: the lock is what needs fixing.
            ImageError::LockedIdMismatch { .. } => ExitCode::Config,
            ImageError::Build { .. } | ImageError::Context { .. } => ExitCode::BuildFailed,
            ImageError::Engine(err) => err.exit_code(),
        }
    }
}

/// What to do about a failed pull, from what the engine said.
fn pull_hint(image: &str, reason: &str) -> &'static str {
    let reason = reason.to_ascii_lowercase();
    let not_there = ["manifest unknown", "not found", "does not exist"]
        .iter()
        .any(|words| reason.contains(words));
    if image.contains("@sha256:") && not_there {
        "the registry does not have the digest gorae.lock names (the lock was edited by hand, or the image was deleted from the registry); `gorae lock --update SERVICE` locks what the tag names now"
    } else if not_there {
        "the registry has no such image or tag; check the name and version in gorae.yaml (and GORAE_IMAGE_PREFIX or `image_prefix:`)"
    } else if reason.contains("unexpected http status: 5")
        || reason.contains("internal server error")
    {
        "the registry answered with a server error; try again later, or point GORAE_IMAGE_PREFIX at a mirror"
    } else if reason.contains("sent nothing") {
        "the registry accepted the connection but stopped answering; try again, raise GORAE_PULL_TIMEOUT (seconds), or point GORAE_IMAGE_PREFIX at a mirror"
    } else {
        "this machine may be offline or unable to reach the registry. Load the image another way (`docker load -i image.tar`), or point gorae at a mirror with GORAE_IMAGE_PREFIX=mirror.example.com/ (or `image_prefix:` in gorae.yaml)"
    }
}

/// How long a pull may go without a word from the registry: GORAE_PULL_TIMEOUT
/// seconds, 120 by default (a slow layer still reports progress well within it).
fn pull_timeout() -> Duration {
    std::env::var("GORAE_PULL_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&seconds| seconds > 0)
        .map_or(Duration::from_secs(120), Duration::from_secs)
}

/// The outcome of making one image reference present, shared by its services.
type PullOnce = OnceCell<Result<ImageInfo, ImageError>>;
/// The outcome of one build (the image, and whether it had to be built).
type BuildOnce = OnceCell<Result<(ImageInfo, bool), ImageError>>;

/// Resolves images for one `up`, pulling each reference at most once even when
/// several services share it.
pub struct Images<'a> {
    engine: &'a Engine,
    ui: &'a Ui,
    labels: HashMap<String, String>,
    /// Images known to be present, listed once up front.
    present: Mutex<HashMap<String, ImageInfo>>,
    /// Whether `present` holds every local image (by tag and by id), so a reference
    /// missing from it is absent and needs no engine call to say so.
    listed_all: std::sync::atomic::AtomicBool,
    pulls: Mutex<HashMap<String, Arc<PullOnce>>>,
    builds: Mutex<HashMap<String, Arc<BuildOnce>>>,
    /// (service, base image reference) -> the image id that service's build uses
    /// for it (gorae.lock's), so a build never resolves a base image by its tag.
    pins: Mutex<HashMap<(String, String), String>>,
    pull_timeout: Duration,
    /// Each built service's inputs as observed, so its build reads the context once.
    observed_builds: Mutex<HashMap<String, Arc<BuildInputs>>>,
    /// Held while the engine builds. The classic builder gives two builds that run
    /// at once their own copies of the layers they share (`WORKDIR /app` on the same
    /// base), and a later build's cache lookup may then follow the other copy and
    /// miss everything after it; one build at a time keeps a single chain, so a
    /// source edit reliably reuses the dependency layer.
    building: tokio::sync::Mutex<()>,
}

impl<'a> Images<'a> {
    /// Images for `project`. Built images carry the project's name but not its
    /// directory, so the same files give the same image on every machine.
    pub fn new(engine: &'a Engine, ui: &'a Ui, project: &str) -> Images<'a> {
        Images {
            engine,
            ui,
            labels: HashMap::from([(labels::PROJECT.to_string(), project.to_string())]),
            present: Default::default(),
            listed_all: Default::default(),
            pulls: Default::default(),
            builds: Default::default(),
            pins: Default::default(),
            observed_builds: Default::default(),
            pull_timeout: pull_timeout(),
            building: tokio::sync::Mutex::new(()),
        }
    }

    /// The build of `service` uses image `id` wherever its Dockerfile names
    /// `reference` in `FROM`.
    pub fn pin_base(&self, service: &str, reference: &str, id: &str) {
        self.pins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((service.to_string(), reference.to_string()), id.to_string());
    }

    /// Pulls `reference` even when an image by that name is here, so a tag that
    /// moved in the registry is seen. An image that came from no registry (no
    /// registry digest) is taken as it is: there is nothing to ask.
    pub async fn pull_fresh(
        &self,
        service: &str,
        reference: &str,
    ) -> Result<ImageInfo, ImageError> {
        if let Some(info) = self.engine.image(reference).await?
            && info.repo_digests.is_empty()
        {
            return Ok(info);
        }
        self.pull(service, reference, None).await
    }

    /// Lists, in one engine call, the images the services may need, so that each
    /// later lookup of a present image costs nothing.
    pub async fn prefetch(
        &self,
        services: impl IntoIterator<Item = &ServicePlan>,
    ) -> Result<(), ImageError> {
        let mut references = Vec::new();
        for service in services {
            match &service.image {
                ImagePlan::Pull { reference, .. } => references.push(reference.clone()),
                ImagePlan::Build(build) => {
                    references.push(build.repository.clone());
                    if let Ok(text) = dockerfile_text(&build.dockerfile) {
                        references.extend(base_images(&text));
                    }
                }
            }
        }
        if self.has_listed_all() {
            return Ok(());
        }
        // A reference filter cannot match ids (gorae.lock's): then list everything,
        // still one call.
        if references.iter().any(|r| r.starts_with("sha256:")) {
            return self.prefetch_all().await;
        }
        references.sort();
        references.dedup();
        let found = self.engine.images_matching(&references).await?;
        self.remember(found);
        Ok(())
    }

    /// Lists every local image in one engine call; afterwards `present` answers
    /// from that list (and what this run pulls) without asking the engine.
    pub async fn prefetch_all(&self) -> Result<(), ImageError> {
        if self.has_listed_all() {
            return Ok(());
        }
        let found = self.engine.all_images().await?;
        self.remember(found);
        self.listed_all
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    fn has_listed_all(&self) -> bool {
        self.listed_all.load(std::sync::atomic::Ordering::Acquire)
    }

    fn remember(&self, found: impl IntoIterator<Item = (String, ImageInfo)>) {
        self.present
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(found);
    }

    /// The image for `reference` if present: from the prefetched list, else asked.
    pub async fn present(&self, reference: &str) -> Result<Option<ImageInfo>, ImageError> {
        let known = self
            .present
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(reference)
            .cloned();
        match known {
            Some(info) => Ok(Some(info)),
            None if self.has_listed_all() => Ok(None),
            None => Ok(self.engine.image(reference).await?),
        }
    }

    /// What `service`'s image is now, pulling and building nothing: a present image,
    /// a reference to pull, or a build with its content tag and why it runs.
    pub async fn observe(&self, service: &ServicePlan) -> Result<ImageFound, ImageError> {
        let build = match &service.image {
            ImagePlan::Pull {
                reference,
                platform,
            } => {
                return Ok(
                    match self.present_for(reference, platform.as_deref()).await? {
                        Some(info) => ImageFound::Present {
                            reference: reference.clone(),
                            id: info.id,
                        },
                        None => ImageFound::Absent {
                            reference: reference.clone(),
                        },
                    },
                );
            }
            ImagePlan::Build(build) => build,
        };
        let inputs = match self.build_inputs(&service.name, build, false).await? {
            Ok(inputs) => inputs,
            Err(missing) => {
                return Ok(ImageFound::Build {
                    tag: None,
                    reason: format!("base image {missing} is not on this machine"),
                });
            }
        };
        let tag = inputs.tag.clone();
        let found = match self.present(&tag).await? {
            Some(info) => ImageFound::Present {
                reference: tag,
                id: info.id,
            },
            None => {
                let manifest =
                    ManifestCache::new(&format!("{}-{}", build.repository, service.name));
                ImageFound::Build {
                    tag: Some(tag),
                    reason: rebuild_reason(manifest.load().as_ref(), &inputs.scanned),
                }
            }
        };
        self.observed_builds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(service.name.clone(), Arc::new(inputs));
        Ok(found)
    }

    /// The image for `service`, pulling or building as needed.
    pub async fn resolve(&self, service: &ServicePlan) -> Result<ResolvedImage, ImageError> {
        match &service.image {
            ImagePlan::Pull {
                reference,
                platform,
            } => Ok(ResolvedImage {
                reference: reference.clone(),
                info: self
                    .present_or_pull_for(&service.name, reference, platform.as_deref())
                    .await?,
                built: false,
                built_here: false,
            }),
            ImagePlan::Build(build) => {
                let resolved = self.build(service, build).await?;
                if let Some(name) = &build.options.tag {
                    // Tagged on every `up`, so the name follows the content tag.
                    self.engine
                        .tag(&resolved.reference, name)
                        .await
                        .map_err(|err| ImageError::Build {
                            service: service.name.clone(),
                            reason: format!("could not tag the image {name}: {err}"),
                            output: String::new(),
                        })?;
                }
                Ok(resolved)
            }
        }
    }

    /// The image if present, otherwise pulled once for everyone who asks.
    pub async fn present_or_pull(
        &self,
        service: &str,
        reference: &str,
    ) -> Result<ImageInfo, ImageError> {
        self.present_or_pull_for(service, reference, None).await
    }

    /// [`Self::present_or_pull`] for a service's `platform:`, when it names one: an
    /// image here for another platform is pulled again for this one.
    pub async fn present_or_pull_for(
        &self,
        service: &str,
        reference: &str,
        platform: Option<&str>,
    ) -> Result<ImageInfo, ImageError> {
        let key = match platform {
            Some(platform) => format!("{reference} for {platform}"),
            None => reference.to_string(),
        };
        let cell = shared_cell(&self.pulls, &key);
        cell.get_or_init(|| async {
            if let Some(info) = self.present_for(reference, platform).await? {
                return Ok(info);
            }
            self.pull(service, reference, platform).await
        })
        .await
        .clone()
    }

    /// [`Self::present`], and of `platform` when one is named (one more engine call,
    /// made only for services that name a platform).
    async fn present_for(
        &self,
        reference: &str,
        platform: Option<&str>,
    ) -> Result<Option<ImageInfo>, ImageError> {
        let Some(info) = self.present(reference).await? else {
            return Ok(None);
        };
        let Some(wanted) = platform else {
            return Ok(Some(info));
        };
        Ok(match self.engine.platform_of(&info.id).await? {
            Some(actual) if platform_matches(wanted, &actual) => Some(info),
            _ => None,
        })
    }

    /// Pulls `reference` with progress, then looks at what arrived.
    async fn pull(
        &self,
        service: &str,
        reference: &str,
        platform: Option<&str>,
    ) -> Result<ImageInfo, ImageError> {
        self.ui.service(
            service,
            Event::Pulling {
                image: reference.to_string(),
            },
        );
        // A tenth at a time: enough to see it move, few enough for plain logs.
        let mut shown = 0;
        let pulled = self
            .engine
            .pull(reference, platform, self.pull_timeout, |percent| {
                if percent / 10 > shown {
                    shown = percent / 10;
                    self.ui.service(service, Event::PullProgress { percent });
                }
            })
            .await;
        if let Err(err) = pulled {
            return Err(ImageError::Pull {
                image: reference.to_string(),
                reason: err.to_string(),
            });
        }
        // A pull from a fast registry may finish between two progress events; the
        // last step is always shown, so every pull ends with what it downloaded.
        if shown < 10 {
            self.ui
                .service(service, Event::PullProgress { percent: 100 });
        }
        let info = self
            .engine
            .image(reference)
            .await?
            .ok_or_else(|| ImageError::Pull {
                image: reference.to_string(),
                reason: "the engine reported success but has no such image".into(),
            })?;
        // Later lookups in this run, by the name pulled or by id, find it here.
        self.remember([
            (reference.to_string(), info.clone()),
            (info.id.clone(), info.clone()),
        ]);
        Ok(info)
    }

    /// The content-hash tag a built service's image has (or will have), without
    /// building it. Base images are pulled if missing, since their ids are inputs.
    pub async fn content_tag(&self, service: &ServicePlan) -> Result<Option<String>, ImageError> {
        let ImagePlan::Build(build) = &service.image else {
            return Ok(None);
        };
        let inputs = self
            .build_inputs(&service.name, build, true)
            .await?
            .map_err(|missing| ImageError::Pull {
                image: missing,
                reason: "not on this machine".into(),
            })?;
        Ok(Some(inputs.tag))
    }

    /// Reads everything a build depends on and derives its tag. A missing base image
    /// is pulled when `pull_bases`; otherwise the answer is `Err(that reference)`.
    async fn build_inputs(
        &self,
        name: &str,
        build: &BuildPlan,
        pull_bases: bool,
    ) -> Result<Result<BuildInputs, String>, ImageError> {
        let dockerfile = dockerfile_text(&build.dockerfile)
            .map_err(|reason| ImageError::context(name, reason))?;
        // Bases are of the platform the build is for.
        let platform = build.options.platform.as_deref();
        let mut base_ids = Vec::new();
        let mut by_id = HashMap::new();
        for base in base_images(&dockerfile) {
            let pinned = self
                .pins
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(name.to_string(), base.clone()))
                .cloned();
            let id = match pinned {
                Some(id) => id,
                None if pull_bases => self.present_or_pull_for(name, &base, platform).await?.id,
                None => match self.present_for(&base, platform).await? {
                    Some(info) => info.id,
                    None => return Ok(Err(base)),
                },
            };
            base_ids.push(id.clone());
            by_id.insert(base, id);
        }
        // The engine builds on exactly the images hashed above: by id, never by a
        // tag that may have moved or may be missing (a pull by digest adds no tag).
        let dockerfile = pin_bases(&dockerfile, &by_id);
        let dir = build.context.clone();
        let never_sent = build.never_sent.clone();
        let scanned = tokio::task::spawn_blocking(move || context::scan_without(&dir, &never_sent))
            .await
            .map_err(|err| ImageError::context(name, err))?
            .map_err(|err| ImageError::context(name, err))?;
        let hash = scanned.build_hash(&dockerfile, &base_ids, &build.options.hashed());
        Ok(Ok(BuildInputs {
            tag: format!("{}:{}", build.repository, &hash[..16]),
            scanned,
            dockerfile,
            options: build.options.clone(),
        }))
    }

    async fn build(
        &self,
        service: &ServicePlan,
        build: &BuildPlan,
    ) -> Result<ResolvedImage, ImageError> {
        let repository = &build.repository;
        let name = service.name.as_str();
        let observed = self
            .observed_builds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned();
        let inputs =
            match observed {
                Some(inputs) => inputs,
                None => Arc::new(self.build_inputs(name, build, true).await?.map_err(
                    |missing| ImageError::Pull {
                        image: missing,
                        reason: "not on this machine".into(),
                    },
                )?),
            };
        let BuildInputs {
            tag,
            scanned,
            dockerfile,
            options,
        } = &*inputs;
        let tag = tag.clone();
        // Services built from the same inputs share one image and one build.
        let cell = shared_cell(&self.builds, &tag);
        let ran = std::sync::atomic::AtomicBool::new(false);
        let (info, built) = cell
            .get_or_init(|| async {
                ran.store(true, std::sync::atomic::Ordering::Relaxed);
                if let Some(info) = self.present(&tag).await? {
                    return Ok((info, false));
                }
                let manifest = ManifestCache::new(&format!("{repository}-{name}"));
                let reason = rebuild_reason(manifest.load().as_ref(), scanned);
                self.ui.service(name, Event::Building { reason });
                let info = self
                    .run_build(name, &tag, scanned, dockerfile, options)
                    .await?;
                manifest.store(scanned);
                self.ui.service(name, Event::Built { tag: tag.clone() });
                Ok((info, true))
            })
            .await
            .clone()?;
        Ok(ResolvedImage {
            reference: tag,
            info,
            built,
            built_here: built && ran.load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Sends the context to the engine and builds `tag`, streaming its progress.
    async fn run_build(
        &self,
        name: &str,
        tag: &str,
        scanned: &BuildContext,
        dockerfile: &str,
        options: &BuildOptions,
    ) -> Result<ImageInfo, ImageError> {
        let (scanned, dockerfile_for_tar) = (scanned.clone(), dockerfile.to_string());
        let tar = tokio::task::spawn_blocking(move || scanned.tar(&dockerfile_for_tar))
            .await
            .map_err(|err| ImageError::context(name, err))?
            .map_err(|err| ImageError::context(name, err))?;

        let _one_at_a_time = self.building.lock().await;
        let mut output: Vec<String> = Vec::new();
        let built = self
            .engine
            .build(
                tar,
                context::DOCKERFILE_NAME,
                tag,
                &self.labels,
                options,
                |progress| {
                    let event = match progress {
                        BuildProgress::Step { n, of, text } => {
                            output.push(format!("Step {n}/{of} : {text}"));
                            Event::BuildStep { n, of, text }
                        }
                        BuildProgress::Output(line) => {
                            output.push(line.clone());
                            Event::BuildOutput { line }
                        }
                    };
                    self.ui.service(name, event);
                },
            )
            .await;
        if let Err(err) = built {
            let start = output.len().saturating_sub(BUILD_TAIL);
            return Err(ImageError::Build {
                service: name.to_string(),
                reason: err.to_string(),
                output: output[start..]
                    .iter()
                    .map(|line| format!("  | {line}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
        self.engine
            .image(tag)
            .await?
            .ok_or_else(|| ImageError::Build {
                service: name.to_string(),
                reason: format!("the engine built no image tagged {tag}"),
                output: String::new(),
            })
    }
}

/// What a build is made from, read once.
struct BuildInputs {
    tag: String,
    scanned: BuildContext,
    dockerfile: String,
    options: BuildOptions,
}

/// The cell for `key`, created on first use, so concurrent callers share one result.
fn shared_cell<T>(cells: &Mutex<HashMap<String, Arc<OnceCell<T>>>>, key: &str) -> Arc<OnceCell<T>> {
    let mut cells = cells.lock().unwrap_or_else(|e| e.into_inner());
    cells.entry(key.to_string()).or_default().clone()
}

/// Says in a few words why a build runs, compared with the last one built here.
fn rebuild_reason(previous: Option<&BuildContext>, current: &BuildContext) -> String {
    let Some(previous) = previous else {
        return "no image for this content yet".to_string();
    };
    let changed = current.changed_paths(previous);
    match changed.as_slice() {
        [] => "Dockerfile or base image changed".to_string(),
        [one] => format!("{one} changed"),
        [first, second] => format!("{first} and {second} changed"),
        [first, rest @ ..] => format!("{first} and {} more files changed", rest.len()),
    }
}

/// Remembers the file list of the last build of a repository, only to explain the
/// next rebuild. Losing it costs nothing but the explanation.
struct ManifestCache {
    path: Option<PathBuf>,
}

impl ManifestCache {
    fn new(repository: &str) -> ManifestCache {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
        ManifestCache {
            path: base.map(|base| {
                base.join("gorae")
                    .join("contexts")
                    .join(format!("{repository}.json"))
            }),
        }
    }

    fn load(&self) -> Option<BuildContext> {
        let text = std::fs::read_to_string(self.path.as_ref()?).ok()?;
        let stored: BTreeMap<String, (u8, u32, String)> = serde_json::from_str(&text).ok()?;
        let entries = stored
            .into_iter()
            .filter_map(|(path, (kind, mode, digest))| {
                let kind = match kind {
                    0 => context::EntryKind::File,
                    1 => context::EntryKind::Dir,
                    _ => context::EntryKind::Symlink,
                };
                let bytes = (0..digest.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(digest.get(i..i + 2)?, 16).ok())
                    .collect::<Option<Vec<u8>>>()?;
                Some((
                    path,
                    Entry {
                        kind,
                        mode,
                        digest: bytes.try_into().ok()?,
                    },
                ))
            })
            .collect();
        Some(BuildContext {
            root: PathBuf::new(),
            entries,
        })
    }

    fn store(&self, context: &BuildContext) {
        let Some(path) = &self.path else { return };
        let stored: BTreeMap<&String, (u8, u32, String)> = context
            .entries
            .iter()
            .map(|(path, entry)| (path, (entry.kind as u8, entry.mode, hex(&entry.digest))))
            .collect();
        if let (Some(dir), Ok(json)) = (path.parent(), serde_json::to_string(&stored)) {
            let _ = std::fs::create_dir_all(dir);
            let _ = std::fs::write(path, json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_context_keeps_its_io_error_as_the_source_and_says_it_once() {
        let unreadable = context::ContextError::Read {
            path: PathBuf::from("/shop/web/secret.pem"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let err = ImageError::context("web", unreadable);
        // Shared with every service of the build, the cause is still the typed one.
        let shared = err.clone();
        let io = std::error::Error::source(&shared)
            .and_then(std::error::Error::source)
            .and_then(|cause| cause.downcast_ref::<std::io::Error>())
            .expect("the io::Error under the context's file");
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(
            format!("{:#}", anyhow::Error::from(shared)),
            "cannot read the build context of service `web`: cannot read /shop/web/secret.pem: permission denied"
        );
        assert_eq!(err.exit_code(), ExitCode::BuildFailed);
    }

    #[test]
    fn a_missing_locked_digest_gets_a_lock_hint_and_a_missing_tag_a_name_hint() {
        let digest = pull_hint("r/redis@sha256:abc", "manifest unknown: manifest unknown");
        assert!(digest.contains("gorae lock --update"), "{digest}");
        let tag = pull_hint("r/redis:99", "manifest for r/redis:99 not found");
        assert!(tag.contains("check the name"), "{tag}");
        let hung = pull_hint("r/redis:7", "the registry sent nothing for 3s");
        assert!(hung.contains("GORAE_PULL_TIMEOUT"), "{hung}");
        let failing = pull_hint(
            "r/redis:7",
            "received unexpected HTTP status: 500 Internal Server Error",
        );
        assert!(failing.contains("server error"), "{failing}");
        let offline = pull_hint("redis:7", "dial tcp: connection refused");
        assert!(offline.contains("offline"), "{offline}");
    }

    #[test]
    fn rebuild_reason_names_changed_files() {
        let entry = |d: u8| Entry {
            kind: context::EntryKind::File,
            mode: 0o644,
            digest: [d; 32],
        };
        let old = BuildContext {
            root: PathBuf::new(),
            entries: BTreeMap::from([("server.js".to_string(), entry(1))]),
        };
        let mut new = old.clone();
        new.entries.insert("server.js".into(), entry(2));
        assert_eq!(rebuild_reason(Some(&old), &new), "server.js changed");
        assert_eq!(
            rebuild_reason(Some(&old), &old),
            "Dockerfile or base image changed"
        );
        assert_eq!(rebuild_reason(None, &old), "no image for this content yet");
    }
}
