//! The steps of one rotation, in order: what the fault seam (`sigkill-after:STEP`) and the
//! audit events name.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Set,
    Test,
    /// Part of promote, for a secret that keeps its replaced value: what the promote will
    /// mark the new version with, stored where launches do not look yet.
    Previous,
    Promote,
    Finish,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Create,
        Step::Set,
        Step::Test,
        Step::Previous,
        Step::Promote,
        Step::Finish,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Set => "set",
            Step::Test => "test",
            Step::Previous => "previous",
            Step::Promote => "promote",
            Step::Finish => "finish",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == text)
    }
}
