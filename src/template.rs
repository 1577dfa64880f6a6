//! Config templates: any text with `${…}` placeholders, everything else copied byte for byte.
//!
//! A template is expanded with the launch's variables into one [`PlaceholderValue`] per placeholder, so
//! its references are fetched in the launch's one batch and a failure names the placeholder's
//! line and column.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::bounded;
use crate::env_vars::{Environment, is_launcher_variable};
use crate::exec::ChildEnvOptions;
use crate::expand::{self, ExpandError, Found, Lookup, Piece};
use crate::placeholder::{self, Segment, Syntax};
use crate::plan::Plan;
use crate::problem::Problem;
use crate::resolve::PlaceholderValue;
use crate::secret::SecretString;

/// What `${NAME}` means in a template: the variable the program would get.
pub struct LaunchVariables<'a> {
    pub plan: &'a Plan,
    pub env: &'a Environment,
    /// `run`'s options, so a template sees exactly the program's environment.
    pub options: ChildEnvOptions,
}

impl LaunchVariables<'_> {
    /// Env-file entries and required secrets first, then the launcher's environment (only
    /// `KEY` pass-through lines with `--pristine`), never the launcher's own credentials
    /// unless `--keep-launcher-env`: the same precedence as the program's environment.
    fn pieces(&self, name: &str) -> Found {
        if !self.options.keep_launcher_env && is_launcher_variable(OsStr::new(name)) {
            return None;
        }
        if let Ok(index) = self
            .plan
            .vars
            .binary_search_by(|var| var.name.as_str().cmp(name))
        {
            return Some(self.plan.vars[index].pieces.clone());
        }
        if self.options.pristine && !self.plan.inherited.iter().any(|key| key == name) {
            return None;
        }
        let value = self.env.get(name)?;
        Some(vec![Piece::Text(SecretString::new(
            value.as_encoded_bytes().to_vec(),
        ))])
    }
}

enum Part {
    Text(String),
    Placeholder(PlaceholderValue),
}

pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Reads and expands the template at `path` (relative to `working_dir`); `file://`
    /// references in it are relative to its directory. Reports every bad placeholder.
    pub fn load(
        path: &Path,
        working_dir: &Path,
        variables: &LaunchVariables,
    ) -> Result<Template, Vec<Problem>> {
        let shown = path.display().to_string();
        let absolute = working_dir.join(path);
        let bytes =
            bounded::read_input_file(&absolute, bounded::INPUT_FILE_LIMIT).map_err(|error| {
                vec![
                    Problem::new(&shown, format!("cannot read the template: {error}")).with_hint(
                        "check the path; a relative one is relative to the working directory",
                    ),
                ]
            })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| vec![Problem::new(&shown, "the template is not valid UTF-8 text")])?;
        let base = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        Template::parse(&text, &shown, base, variables)
    }

    /// Expands a template's text; `shown` names it in problems, `base` is its directory.
    pub(crate) fn parse(
        text: &str,
        shown: &str,
        base: PathBuf,
        variables: &LaunchVariables,
    ) -> Result<Template, Vec<Problem>> {
        let location = |offset: usize| {
            let (line, column) = placeholder::line_column(text, offset);
            format!("{shown}:{line}:{column}")
        };
        let segments = placeholder::parse(text, Syntax::Template).map_err(|error| {
            vec![
                Problem::new(location(error.offset()), error.to_string())
                    .with_hint("write $$ for a literal $ in a template"),
            ]
        })?;
        let mut lookup = TemplateLookup { variables, base };
        let mut parts = Vec::new();
        let mut problems = Vec::new();
        for segment in segments {
            let offset = match &segment {
                Segment::Literal(text) => {
                    parts.push(Part::Text(text.clone()));
                    continue;
                }
                Segment::Variable { offset, .. } | Segment::Reference { offset, .. } => *offset,
            };
            let location = location(offset);
            match expand::expand(std::slice::from_ref(&segment), &mut lookup) {
                Ok(pieces) => parts.push(Part::Placeholder(PlaceholderValue { location, pieces })),
                Err(error) => problems.push(placeholder_problem(location, &error)),
            }
        }
        if problems.is_empty() {
            Ok(Template { parts })
        } else {
            Err(problems)
        }
    }

    /// The placeholders to resolve, in order.
    pub fn extras(&self) -> impl Iterator<Item = &PlaceholderValue> {
        self.parts.iter().filter_map(|part| match part {
            Part::Placeholder(extra) => Some(extra),
            Part::Text(_) => None,
        })
    }

    /// The text with each placeholder replaced by the next resolved value.
    fn render(&self, values: &mut impl Iterator<Item = SecretString>) -> SecretString {
        let mut output = SecretString::default();
        for part in &self.parts {
            match part {
                Part::Text(text) => output.push_bytes(text.as_bytes()),
                Part::Placeholder(_) => {
                    let value = values.next().expect("one resolved value per placeholder");
                    output.push_bytes(value.expose());
                }
            }
        }
        output
    }
}

/// Loads every template of `paths` (see [`Template::load`]), reporting the problems of all.
pub fn load_all<'a>(
    paths: impl IntoIterator<Item = &'a Path>,
    working_dir: &Path,
    variables: &LaunchVariables,
) -> Result<Vec<Template>, Vec<Problem>> {
    let mut templates = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match Template::load(path, working_dir, variables) {
            Ok(template) => templates.push(template),
            Err(more) => problems.extend(more),
        }
    }
    if problems.is_empty() {
        Ok(templates)
    } else {
        Err(problems)
    }
}

/// Every template's placeholders, in order, for one resolver batch.
pub fn extras_of(templates: &[Template]) -> Vec<PlaceholderValue> {
    templates
        .iter()
        .flat_map(Template::extras)
        .cloned()
        .collect()
}

/// Renders each template with its share of `values` (resolved from [`extras_of`]).
pub fn render_all(templates: &[Template], values: Vec<SecretString>) -> Vec<SecretString> {
    let mut values = values.into_iter();
    templates
        .iter()
        .map(|template| template.render(&mut values))
        .collect()
}

fn placeholder_problem(location: String, error: &ExpandError) -> Problem {
    match error {
        // The location already says where; the engine's column is within the whole text.
        ExpandError::Unset { name, .. } if is_launcher_variable(OsStr::new(name)) => Problem::new(
            location,
            format!(
                "{name} is the launcher's own credential or setting, which the program does not get"
            ),
        )
        .with_hint(format!(
            "write $${{{name}}} to leave the placeholder for the program to expand at run time"
        )),
        ExpandError::Unset { name, .. } => {
            Problem::new(location, format!("variable {name} is not set"))
                .with_optional_hint(error.hint())
        }
        _ => Problem::new(location, error.to_string()).with_optional_hint(error.hint()),
    }
}

struct TemplateLookup<'v, 'a> {
    variables: &'v LaunchVariables<'a>,
    base: PathBuf,
}

impl Lookup for TemplateLookup<'_, '_> {
    fn variable(&mut self, name: &str) -> Result<Found, ExpandError> {
        Ok(self.variables.pieces(name))
    }

    fn reference_base(&self) -> Result<&Path, ExpandError> {
        Ok(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Origin, PlannedVar};

    fn plan() -> Plan {
        Plan {
            vars: vec![PlannedVar {
                name: "FROM_FILE".into(),
                origin: Origin::Process,
                pieces: vec![Piece::Text(SecretString::from("entry"))],
                secret: None,
                alias_of: None,
                previous_of: None,
            }],
            ..Plan::default()
        }
    }

    fn render(text: &str, env: &[(&str, &str)]) -> Result<String, Vec<Problem>> {
        let plan = plan();
        let env = Environment::from_vars(
            env.iter()
                .map(|(name, value)| ((*name).into(), (*value).into())),
        );
        let variables = LaunchVariables {
            plan: &plan,
            env: &env,
            options: ChildEnvOptions::default(),
        };
        let template = Template::parse(text, "t.yaml", PathBuf::from("/base"), &variables)?;
        let values = template
            .extras()
            .map(|extra| expand::text_only(&extra.pieces).expect("no references in these tests"))
            .collect();
        let rendered = render_all(&[template], values).remove(0);
        Ok(String::from_utf8(rendered.expose().to_vec()).unwrap())
    }

    #[test]
    fn copies_text_and_bare_dollars_and_fills_placeholders() {
        let text = "a: ${FROM_FILE}\nb: $HOME $$ ${ENV_ONLY:-x} ${UNSET:-d}\r\n";
        assert_eq!(
            render(text, &[("ENV_ONLY", "env"), ("FROM_FILE", "ignored")]).unwrap(),
            "a: entry\nb: $HOME $ env d\r\n"
        );
    }

    #[test]
    fn launcher_credentials_are_not_template_variables() {
        let problems = render("x\n  token: ${VAULT_TOKEN}", &[("VAULT_TOKEN", "t")]).unwrap_err();
        assert_eq!(problems[0].location, "t.yaml:2:10");
        assert!(
            problems[0]
                .hint
                .as_ref()
                .unwrap()
                .contains("$${VAULT_TOKEN}")
        );
    }

    #[test]
    fn every_bad_placeholder_is_reported_with_line_and_column() {
        let problems = render("${A}\n é ${B}", &[]).unwrap_err();
        let locations: Vec<_> = problems.iter().map(|p| p.location.as_str()).collect();
        assert_eq!(locations, ["t.yaml:1:1", "t.yaml:2:4"]);
        assert_eq!(problems[1].message, "variable B is not set");
        let syntax = render("ok\n${A B}", &[]).unwrap_err();
        assert_eq!(syntax[0].location, "t.yaml:2:1");
    }
}
