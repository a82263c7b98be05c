//! The rules file: Trino's JSON format parsed strictly (an unknown key anywhere fails the
//! load, as in Trino) into typed, compiled rules.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::error::AccessError;
use crate::pattern::{RulePattern, optional_matches, optional_matches_any};

/// The access a catalog rule grants (`allow`), in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CatalogAccess {
    /// `none` (or `false`).
    None,
    /// `read-only`: SELECT, SHOW and session properties.
    ReadOnly,
    /// `all` (or `true`): also writes and schema ownership.
    All,
    /// `owner`: also CREATE and DROP CATALOG.
    Owner,
}

impl CatalogAccess {
    /// Whether this access includes `required`.
    pub fn implies(self, required: CatalogAccess) -> bool {
        required != CatalogAccess::None && self >= required
    }
}

/// A table privilege of a `tables` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TablePrivilege {
    /// `SELECT`.
    Select,
    /// `INSERT`.
    Insert,
    /// `DELETE`.
    Delete,
    /// `UPDATE`.
    Update,
    /// `OWNERSHIP`: DDL on the table.
    Ownership,
    /// `GRANT_SELECT`: SELECT, and creating views that select from it.
    GrantSelect,
}

/// What a `queries` rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QueryAccess {
    /// Run queries.
    Execute,
    /// See other users' queries.
    View,
    /// Kill other users' queries.
    Kill,
}

/// A routine privilege of a `functions` or `procedures` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RoutinePrivilege {
    Execute,
    GrantExecute,
    Ownership,
}

/// A row filter or column mask: SQL text and the identity it is evaluated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyExpression {
    /// The SQL expression, as written in the rules.
    pub expression: String,
    /// `filter_environment.user` / `mask_environment.user`: the user the expression runs as;
    /// `None` means the session user.
    pub run_as: Option<String>,
    /// The catalog unqualified names in the expression resolve in (the table's).
    pub catalog: String,
    /// The schema unqualified names in the expression resolve in (the table's).
    pub schema: String,
}

/// Who a rule applies to: `user`, `group` and `role` patterns, all of which must match.
#[derive(Debug, Default)]
pub(crate) struct Who {
    pub(crate) user: Option<RulePattern>,
    pub(crate) group: Option<RulePattern>,
    pub(crate) role: Option<RulePattern>,
}

impl Who {
    fn new(
        user: Option<String>,
        group: Option<String>,
        role: Option<String>,
    ) -> Result<Self, String> {
        Ok(Who {
            user: fixed("user", user)?,
            group: fixed("group", group)?,
            role: fixed("role", role)?,
        })
    }

    pub(crate) fn matches(&self, subject: &crate::Subject) -> bool {
        optional_matches(&self.user, &subject.user, &subject.user)
            && optional_matches_any(&self.group, &subject.groups)
            && optional_matches_any(&self.role, &subject.roles)
    }
}

/// A `catalogs` rule.
#[derive(Debug)]
pub(crate) struct CatalogRule {
    pub(crate) who: Who,
    pub(crate) catalog: Option<RulePattern>,
    pub(crate) allow: CatalogAccess,
}

/// A `schemas` rule.
#[derive(Debug)]
pub(crate) struct SchemaRule {
    pub(crate) who: Who,
    pub(crate) catalog: Option<RulePattern>,
    pub(crate) schema: Option<RulePattern>,
    pub(crate) owner: bool,
}

/// One entry of a table rule's `columns`.
#[derive(Debug)]
pub(crate) struct ColumnRule {
    pub(crate) allow: bool,
    pub(crate) mask: Option<String>,
    pub(crate) mask_user: Option<String>,
}

/// A `tables` rule.
#[derive(Debug)]
pub(crate) struct TableRule {
    pub(crate) who: Who,
    pub(crate) catalog: Option<RulePattern>,
    pub(crate) schema: Option<RulePattern>,
    pub(crate) table: Option<RulePattern>,
    pub(crate) privileges: BTreeSet<TablePrivilege>,
    /// By exact column name.
    pub(crate) columns: BTreeMap<String, ColumnRule>,
    pub(crate) filter: Option<String>,
    pub(crate) filter_user: Option<String>,
}

/// A `system_information` rule (no `group`, as in Trino).
#[derive(Debug)]
pub(crate) struct SystemInformationRule {
    pub(crate) who: Who,
    pub(crate) read: bool,
    pub(crate) write: bool,
}

/// A `queries` rule.
#[derive(Debug)]
pub(crate) struct QueryRule {
    pub(crate) who: Who,
    pub(crate) query_owner: Option<RulePattern>,
    pub(crate) allow: BTreeSet<QueryAccess>,
}

/// An `impersonation` rule.
#[derive(Debug)]
pub(crate) struct ImpersonationRule {
    pub(crate) original_user: Option<RulePattern>,
    pub(crate) original_role: Option<RulePattern>,
    /// The `new_user` pattern as written: `$1`-style references to `original_user`'s groups
    /// are substituted per check.
    pub(crate) new_user: String,
    pub(crate) allow: bool,
}

/// A `system_session_properties` or `catalog_session_properties` rule.
#[derive(Debug)]
pub(crate) struct SessionPropertyRule {
    pub(crate) who: Who,
    /// Only in `catalog_session_properties`.
    pub(crate) catalog: Option<RulePattern>,
    pub(crate) property: Option<RulePattern>,
    pub(crate) allow: bool,
}

/// A `functions` or `procedures` rule.
#[derive(Debug)]
pub(crate) struct RoutineRule {
    pub(crate) who: Who,
    pub(crate) catalog: Option<RulePattern>,
    pub(crate) schema: Option<RulePattern>,
    /// `function` or `procedure`.
    pub(crate) name: Option<RulePattern>,
    pub(crate) privileges: BTreeSet<RoutinePrivilege>,
}

/// A parsed, validated rules file. Absent sections take Trino's defaults (see each field).
#[derive(Debug)]
pub struct FileRules {
    /// Absent: all catalogs with `all`. Present: the hidden last rule gives everyone `all` on
    /// `system`.
    pub(crate) catalogs: Vec<CatalogRule>,
    /// Absent: owner of every schema.
    pub(crate) schemas: Vec<SchemaRule>,
    /// Absent: every privilege on every table.
    pub(crate) tables: Vec<TableRule>,
    /// Absent: denied.
    pub(crate) system_information: Vec<SystemInformationRule>,
    /// Absent: everything allowed.
    pub(crate) queries: Option<Vec<QueryRule>>,
    /// Absent: denied.
    pub(crate) impersonation: Vec<ImpersonationRule>,
    /// Absent: allowed.
    pub(crate) system_session_properties: Vec<SessionPropertyRule>,
    /// Absent: allowed.
    pub(crate) catalog_session_properties: Vec<SessionPropertyRule>,
    /// Absent: only `system.builtin`.
    pub(crate) functions: Vec<RoutineRule>,
    /// Absent: only `system.builtin`.
    pub(crate) procedures: Vec<RoutineRule>,
}

impl FileRules {
    /// Parses the rules from JSON text; `source` names the file in errors.
    pub fn parse(source: &str, text: &str) -> Result<Self, AccessError> {
        let raw: RawRules = serde_json::from_str(text).map_err(|e| {
            AccessError::InvalidRules(format!("{source}: invalid access control rules: {e}"))
        })?;
        raw.compile()
            .map_err(|e| AccessError::InvalidRules(format!("{source}: {e}")))
    }

    /// Reads and parses a rules file.
    pub fn load(path: &std::path::Path) -> Result<Self, AccessError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AccessError::InvalidRules(format!("{}: cannot read: {e}", path.display()))
        })?;
        Self::parse(&path.display().to_string(), &text)
    }
}

fn fixed(field: &str, source: Option<String>) -> Result<Option<RulePattern>, String> {
    source.map(|s| RulePattern::fixed(field, &s)).transpose()
}

fn with_user(field: &str, source: Option<String>) -> Result<Option<RulePattern>, String> {
    source
        .map(|s| RulePattern::with_user(field, &s))
        .transpose()
}

// ---- The file as written ------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    catalogs: Option<Vec<RawCatalogRule>>,
    schemas: Option<Vec<RawSchemaRule>>,
    tables: Option<Vec<RawTableRule>>,
    system_information: Option<Vec<RawSystemInformationRule>>,
    queries: Option<Vec<RawQueryRule>>,
    impersonation: Option<Vec<RawImpersonationRule>>,
    system_session_properties: Option<Vec<RawSessionPropertyRule>>,
    catalog_session_properties: Option<Vec<RawCatalogSessionPropertyRule>>,
    functions: Option<Vec<RawFunctionRule>>,
    procedures: Option<Vec<RawProcedureRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    catalog: Option<String>,
    #[serde(deserialize_with = "catalog_access")]
    allow: CatalogAccess,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchemaRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    #[serde(default)]
    owner: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTableRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    privileges: Vec<CaseInsensitive<TablePrivilege>>,
    #[serde(default)]
    columns: Vec<RawColumnRule>,
    filter: Option<String>,
    filter_environment: Option<RawEnvironment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumnRule {
    name: String,
    #[serde(default = "yes")]
    allow: bool,
    mask: Option<String>,
    mask_environment: Option<RawEnvironment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    user: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystemInformationRule {
    user: Option<String>,
    role: Option<String>,
    allow: Vec<CaseInsensitive<SystemInformationAccess>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueryRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    #[serde(rename = "queryOwner")]
    query_owner: Option<String>,
    allow: Vec<CaseInsensitive<QueryAccess>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImpersonationRule {
    #[serde(alias = "originalUser")]
    original_user: Option<String>,
    #[serde(alias = "originalRole")]
    original_role: Option<String>,
    #[serde(alias = "newUser")]
    new_user: String,
    #[serde(default = "yes")]
    allow: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionPropertyRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    property: Option<String>,
    #[serde(default)]
    allow: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogSessionPropertyRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    catalog: Option<String>,
    property: Option<String>,
    #[serde(default)]
    allow: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunctionRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    function: Option<String>,
    privileges: Vec<CaseInsensitive<RoutinePrivilege>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcedureRule {
    user: Option<String>,
    group: Option<String>,
    role: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    procedure: Option<String>,
    privileges: Vec<CaseInsensitive<RoutinePrivilege>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SystemInformationAccess {
    Read,
    Write,
}

fn yes() -> bool {
    true
}

/// An enum value written in any letter case, as Trino's JSON reader accepts.
struct CaseInsensitive<T>(T);

trait NamedValues: Sized + Copy + 'static {
    const WHAT: &'static str;
    const VALUES: &'static [(&'static str, Self)];
}

impl NamedValues for TablePrivilege {
    const WHAT: &'static str = "table privilege";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("SELECT", TablePrivilege::Select),
        ("INSERT", TablePrivilege::Insert),
        ("DELETE", TablePrivilege::Delete),
        ("UPDATE", TablePrivilege::Update),
        ("OWNERSHIP", TablePrivilege::Ownership),
        ("GRANT_SELECT", TablePrivilege::GrantSelect),
    ];
}

impl NamedValues for QueryAccess {
    const WHAT: &'static str = "query access";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("EXECUTE", QueryAccess::Execute),
        ("VIEW", QueryAccess::View),
        ("KILL", QueryAccess::Kill),
    ];
}

impl NamedValues for SystemInformationAccess {
    const WHAT: &'static str = "system information access";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("READ", SystemInformationAccess::Read),
        ("WRITE", SystemInformationAccess::Write),
    ];
}

impl NamedValues for RoutinePrivilege {
    const WHAT: &'static str = "routine privilege";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("EXECUTE", RoutinePrivilege::Execute),
        ("GRANT_EXECUTE", RoutinePrivilege::GrantExecute),
        ("OWNERSHIP", RoutinePrivilege::Ownership),
    ];
}

impl<'de, T: NamedValues> Deserialize<'de> for CaseInsensitive<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::VALUES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&text))
            .map(|(_, value)| CaseInsensitive(*value))
            .ok_or_else(|| {
                let names: Vec<&str> = T::VALUES.iter().map(|(name, _)| *name).collect();
                de::Error::custom(format!(
                    "unknown {} '{text}' (expected one of {})",
                    T::WHAT,
                    names.join(", ")
                ))
            })
    }
}

/// A catalog rule's `allow`: `all`, `read-only`, `none`, `owner`, or a boolean.
fn catalog_access<'de, D: Deserializer<'de>>(deserializer: D) -> Result<CatalogAccess, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Flag(bool),
        Name(String),
    }
    match Written::deserialize(deserializer)? {
        Written::Flag(true) => Ok(CatalogAccess::All),
        Written::Flag(false) => Ok(CatalogAccess::None),
        Written::Name(name) => match name.to_ascii_lowercase().as_str() {
            "all" => Ok(CatalogAccess::All),
            "read-only" => Ok(CatalogAccess::ReadOnly),
            "none" => Ok(CatalogAccess::None),
            "owner" => Ok(CatalogAccess::Owner),
            _ => Err(de::Error::custom(format!(
                "unknown catalog access '{name}' (expected all, read-only, none or owner)"
            ))),
        },
    }
}

fn set<T: Ord>(values: Vec<CaseInsensitive<T>>) -> BTreeSet<T> {
    values.into_iter().map(|CaseInsensitive(v)| v).collect()
}

impl RawRules {
    fn compile(self) -> Result<FileRules, String> {
        let catalogs = match self.catalogs {
            None => vec![CatalogRule {
                who: Who::default(),
                catalog: None,
                allow: CatalogAccess::All,
            }],
            Some(rules) => {
                let mut compiled = rules
                    .into_iter()
                    .map(|r| {
                        Ok(CatalogRule {
                            who: Who::new(r.user, r.group, r.role)?,
                            catalog: with_user("catalog", r.catalog)?,
                            allow: r.allow,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                compiled.push(CatalogRule {
                    who: Who::default(),
                    catalog: Some(RulePattern::fixed("catalog", "system")?),
                    allow: CatalogAccess::All,
                });
                compiled
            }
        };
        let schemas = match self.schemas {
            None => vec![SchemaRule {
                who: Who::default(),
                catalog: None,
                schema: None,
                owner: true,
            }],
            Some(rules) => rules
                .into_iter()
                .map(|r| {
                    Ok(SchemaRule {
                        who: Who::new(r.user, r.group, r.role)?,
                        catalog: with_user("catalog", r.catalog)?,
                        schema: with_user("schema", r.schema)?,
                        owner: r.owner,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        let tables = match self.tables {
            None => vec![TableRule {
                who: Who::default(),
                catalog: None,
                schema: None,
                table: None,
                privileges: [
                    TablePrivilege::Select,
                    TablePrivilege::Insert,
                    TablePrivilege::Delete,
                    TablePrivilege::Update,
                    TablePrivilege::Ownership,
                    TablePrivilege::GrantSelect,
                ]
                .into(),
                columns: BTreeMap::new(),
                filter: None,
                filter_user: None,
            }],
            Some(rules) => rules
                .into_iter()
                .map(compile_table_rule)
                .collect::<Result<_, String>>()?,
        };
        let system_information = self
            .system_information
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let allow = set(r.allow);
                Ok(SystemInformationRule {
                    who: Who::new(r.user, None, r.role)?,
                    read: allow.contains(&SystemInformationAccess::Read),
                    write: allow.contains(&SystemInformationAccess::Write),
                })
            })
            .collect::<Result<_, String>>()?;
        let queries = self
            .queries
            .map(|rules| {
                rules
                    .into_iter()
                    .map(|r| {
                        let allow = set(r.allow);
                        if r.query_owner.is_some() && allow.contains(&QueryAccess::Execute) {
                            return Err("a query rule cannot combine a queryOwner condition \
                                        with access mode 'execute'"
                                .to_string());
                        }
                        Ok(QueryRule {
                            who: Who::new(r.user, r.group, r.role)?,
                            query_owner: fixed("queryOwner", r.query_owner)?,
                            allow,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?;
        let impersonation = self
            .impersonation
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                // The new_user pattern is checked with its references left as written.
                RulePattern::fixed("new_user", &r.new_user)?;
                Ok(ImpersonationRule {
                    original_user: fixed("original_user", r.original_user)?,
                    original_role: fixed("original_role", r.original_role)?,
                    new_user: r.new_user,
                    allow: r.allow,
                })
            })
            .collect::<Result<_, String>>()?;
        let system_session_properties = match self.system_session_properties {
            None => vec![allow_all_properties()],
            Some(rules) => rules
                .into_iter()
                .map(|r| {
                    Ok(SessionPropertyRule {
                        who: Who::new(r.user, r.group, r.role)?,
                        catalog: None,
                        property: fixed("property", r.property)?,
                        allow: r.allow,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        let catalog_session_properties = match self.catalog_session_properties {
            None => vec![allow_all_properties()],
            Some(rules) => rules
                .into_iter()
                .map(|r| {
                    Ok(SessionPropertyRule {
                        who: Who::new(r.user, r.group, r.role)?,
                        catalog: with_user("catalog", r.catalog)?,
                        property: fixed("property", r.property)?,
                        allow: r.allow,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        let functions = match self.functions {
            None => vec![builtin_routines()?],
            Some(rules) => rules
                .into_iter()
                .map(|r| {
                    routine_rule(
                        Who::new(r.user, r.group, r.role)?,
                        r.catalog,
                        r.schema,
                        ("function", r.function),
                        r.privileges,
                    )
                })
                .collect::<Result<_, String>>()?,
        };
        let procedures = match self.procedures {
            None => vec![builtin_routines()?],
            Some(rules) => rules
                .into_iter()
                .map(|r| {
                    let privileges = set(r.privileges);
                    if privileges.contains(&RoutinePrivilege::Ownership) {
                        return Err("procedure rules take EXECUTE and GRANT_EXECUTE only".into());
                    }
                    Ok(RoutineRule {
                        who: Who::new(r.user, r.group, r.role)?,
                        catalog: with_user("catalog", r.catalog)?,
                        schema: with_user("schema", r.schema)?,
                        name: fixed("procedure", r.procedure)?,
                        privileges,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        Ok(FileRules {
            catalogs,
            schemas,
            tables,
            system_information,
            queries,
            impersonation,
            system_session_properties,
            catalog_session_properties,
            functions,
            procedures,
        })
    }
}

fn compile_table_rule(r: RawTableRule) -> Result<TableRule, String> {
    let mut columns = BTreeMap::new();
    for column in r.columns {
        let rule = ColumnRule {
            allow: column.allow,
            mask: column.mask,
            mask_user: column.mask_environment.and_then(|e| e.user),
        };
        if columns.insert(column.name.clone(), rule).is_some() {
            return Err(format!(
                "column '{}' appears twice in one table rule",
                column.name
            ));
        }
    }
    Ok(TableRule {
        who: Who::new(r.user, r.group, r.role)?,
        catalog: with_user("catalog", r.catalog)?,
        schema: with_user("schema", r.schema)?,
        table: with_user("table", r.table)?,
        privileges: set(r.privileges),
        columns,
        filter: r.filter,
        filter_user: r.filter_environment.and_then(|e| e.user),
    })
}

fn routine_rule(
    who: Who,
    catalog: Option<String>,
    schema: Option<String>,
    (field, name): (&str, Option<String>),
    privileges: Vec<CaseInsensitive<RoutinePrivilege>>,
) -> Result<RoutineRule, String> {
    Ok(RoutineRule {
        who,
        catalog: with_user("catalog", catalog)?,
        schema: with_user("schema", schema)?,
        name: fixed(field, name)?,
        privileges: set(privileges),
    })
}

fn allow_all_properties() -> SessionPropertyRule {
    SessionPropertyRule {
        who: Who::default(),
        catalog: None,
        property: None,
        allow: true,
    }
}

/// Trino's default for absent `functions` and `procedures`: the built-ins only.
fn builtin_routines() -> Result<RoutineRule, String> {
    Ok(RoutineRule {
        who: Who::default(),
        catalog: Some(RulePattern::fixed("catalog", "system")?),
        schema: Some(RulePattern::fixed("schema", "builtin")?),
        name: None,
        privileges: [RoutinePrivilege::Execute, RoutinePrivilege::GrantExecute].into(),
    })
}
