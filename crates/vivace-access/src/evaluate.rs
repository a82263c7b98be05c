//! The checks: Trino's file-based access control semantics over [`FileRules`].
//!
//! Within a section the first rule that matches decides, and a section without a matching
//! rule denies. Table-level checks are gated by the catalog's access: reads need
//! `read-only`, writes and ownership need `all`. Visibility (what SHOW and the metadata
//! tables list) comes from the rules' patterns, not from which objects exist: a catalog is
//! visible when any rule could grant something in it, whatever the order of the rules.

use std::borrow::Cow;

use crate::denied::AccessDenied;
use crate::names::{SchemaName, Subject, TableName};
use crate::pattern::{RulePattern, optional_matches, optional_matches_any};
use crate::rules::{
    CatalogAccess, FileRules, PolicyExpression, QueryAccess, RoutinePrivilege, TablePrivilege,
    TableRule,
};

/// The result of a check: `Ok` or Trino's denial.
pub(crate) type Checked = Result<(), AccessDenied>;

fn check(allowed: bool, denial: impl FnOnce() -> AccessDenied) -> Checked {
    if allowed { Ok(()) } else { Err(denial()) }
}

impl FileRules {
    /// The access the first matching `catalogs` rule grants on `catalog` (`None` without one).
    pub fn catalog_access(&self, subject: &Subject, catalog: &str) -> CatalogAccess {
        self.catalogs
            .iter()
            .find(|rule| {
                rule.who.matches(subject) && optional_matches(&rule.catalog, catalog, &subject.user)
            })
            .map_or(CatalogAccess::None, |rule| rule.allow)
    }

    fn can_access_catalog(
        &self,
        subject: &Subject,
        catalog: &str,
        required: CatalogAccess,
    ) -> bool {
        self.catalog_access(subject, catalog).implies(required)
    }

    /// The gate in front of every catalog-scoped check: at least `read-only`.
    pub fn check_can_access_catalog(&self, subject: &Subject, catalog: &str) -> Checked {
        check(
            self.can_access_catalog(subject, catalog, CatalogAccess::ReadOnly),
            || AccessDenied::catalog_access(catalog),
        )
    }

    fn is_schema_owner(&self, subject: &Subject, schema: &SchemaName) -> bool {
        if !self.can_access_catalog(subject, &schema.catalog, CatalogAccess::All) {
            return false;
        }
        self.schemas
            .iter()
            .find(|rule| {
                rule.who.matches(subject)
                    && optional_matches(&rule.catalog, &schema.catalog, &subject.user)
                    && optional_matches(&rule.schema, &schema.schema, &subject.user)
            })
            .is_some_and(|rule| rule.owner)
    }

    /// The first `tables` rule that matches the subject and the table: it alone supplies the
    /// privileges, the column rules, the row filter and the masks.
    fn table_rule(&self, subject: &Subject, table: &TableName) -> Option<&TableRule> {
        let user = &subject.user;
        self.tables.iter().find(|rule| {
            rule.who.matches(subject)
                && optional_matches(&rule.catalog, &table.catalog, user)
                && optional_matches(&rule.schema, &table.schema, user)
                && optional_matches(&rule.table, &table.table, user)
        })
    }

    fn table_permission(
        &self,
        subject: &Subject,
        table: &TableName,
        privilege: TablePrivilege,
    ) -> bool {
        let required = match privilege {
            TablePrivilege::Select | TablePrivilege::GrantSelect => CatalogAccess::ReadOnly,
            _ => CatalogAccess::All,
        };
        if !self.can_access_catalog(subject, &table.catalog, required) {
            return false;
        }
        if table.in_information_schema() {
            return true;
        }
        self.table_rule(subject, table)
            .is_some_and(|rule| rule.privileges.contains(&privilege))
    }

    fn any_table_permission(&self, subject: &Subject, table: &TableName) -> bool {
        if !self.can_access_catalog(subject, &table.catalog, CatalogAccess::ReadOnly) {
            return false;
        }
        if table.in_information_schema() {
            return true;
        }
        self.table_rule(subject, table)
            .is_some_and(|rule| !rule.privileges.is_empty())
    }

    /// Whether any rule could grant `subject` something in `catalog` (any order, unlike the
    /// first-match checks): schema ownership, a table privilege, a catalog session property,
    /// a function or a procedure.
    fn any_catalog_permission(&self, subject: &Subject, catalog: &str) -> bool {
        let user = &subject.user;
        let in_catalog = |who: &crate::rules::Who, pattern: &Option<RulePattern>| {
            who.matches(subject) && optional_matches(pattern, catalog, user)
        };
        self.schemas
            .iter()
            .any(|r| r.owner && in_catalog(&r.who, &r.catalog))
            || self
                .tables
                .iter()
                .any(|r| !r.privileges.is_empty() && in_catalog(&r.who, &r.catalog))
            || self
                .catalog_session_properties
                .iter()
                .any(|r| r.allow && in_catalog(&r.who, &r.catalog))
            || self
                .functions
                .iter()
                .chain(&self.procedures)
                .any(|r| !r.privileges.is_empty() && in_catalog(&r.who, &r.catalog))
    }

    fn any_catalog_access(&self, subject: &Subject, catalog: &str) -> bool {
        self.can_access_catalog(subject, catalog, CatalogAccess::Owner)
            || (self.can_access_catalog(subject, catalog, CatalogAccess::ReadOnly)
                && self.any_catalog_permission(subject, catalog))
    }

    fn any_schema_access(&self, subject: &Subject, schema: &SchemaName) -> bool {
        if !self.can_access_catalog(subject, &schema.catalog, CatalogAccess::ReadOnly) {
            return false;
        }
        let user = &subject.user;
        let in_schema = |who: &crate::rules::Who,
                         catalog: &Option<RulePattern>,
                         pattern: &Option<RulePattern>| {
            who.matches(subject)
                && optional_matches(catalog, &schema.catalog, user)
                && optional_matches(pattern, &schema.schema, user)
        };
        self.schemas
            .iter()
            .any(|r| r.owner && in_schema(&r.who, &r.catalog, &r.schema))
            || self
                .tables
                .iter()
                .any(|r| !r.privileges.is_empty() && in_schema(&r.who, &r.catalog, &r.schema))
            || self
                .functions
                .iter()
                .chain(&self.procedures)
                .any(|r| !r.privileges.is_empty() && in_schema(&r.who, &r.catalog, &r.schema))
    }

    // ---- Tables ----------------------------------------------------------------------------

    /// SELECT of `columns` (none for `count(*)`) from `table`: SELECT or GRANT_SELECT on the
    /// first matching rule, and none of the columns denied by it. A denied column is reported
    /// as the whole table, as Trino does.
    pub fn check_can_select_from_columns(
        &self,
        subject: &Subject,
        table: &TableName,
        columns: &[&str],
    ) -> Checked {
        let allowed = self.can_access_catalog(subject, &table.catalog, CatalogAccess::ReadOnly)
            && (table.in_information_schema()
                || self.table_rule(subject, table).is_some_and(|rule| {
                    (rule.privileges.contains(&TablePrivilege::Select)
                        || rule.privileges.contains(&TablePrivilege::GrantSelect))
                        && columns
                            .iter()
                            .all(|c| rule.columns.get(*c).is_none_or(|column| column.allow))
                }));
        check(allowed, || AccessDenied::select_table(table))
    }

    /// INSERT into `table`.
    pub fn check_can_insert_into_table(&self, subject: &Subject, table: &TableName) -> Checked {
        check(
            self.table_permission(subject, table, TablePrivilege::Insert),
            || AccessDenied::insert_table(table),
        )
    }

    /// DELETE from (or TRUNCATE) `table`.
    pub fn check_can_delete_from_table(&self, subject: &Subject, table: &TableName) -> Checked {
        check(
            self.table_permission(subject, table, TablePrivilege::Delete),
            || AccessDenied::delete_table(table),
        )
    }

    /// UPDATE of `columns` in `table` (the privilege is per table).
    pub fn check_can_update_table_columns(
        &self,
        subject: &Subject,
        table: &TableName,
        columns: &[&str],
    ) -> Checked {
        check(
            self.table_permission(subject, table, TablePrivilege::Update),
            || AccessDenied::update_table_columns(table, columns),
        )
    }

    /// CREATE TABLE (and CTAS).
    pub fn check_can_create_table(&self, subject: &Subject, table: &TableName) -> Checked {
        check(
            self.table_permission(subject, table, TablePrivilege::Ownership),
            || AccessDenied::create_table(table),
        )
    }

    /// DROP TABLE.
    pub fn check_can_drop_table(&self, subject: &Subject, table: &TableName) -> Checked {
        check(
            self.table_permission(subject, table, TablePrivilege::Ownership),
            || AccessDenied::drop_table(table),
        )
    }

    /// CREATE VIEW.
    pub fn check_can_create_view(&self, subject: &Subject, view: &TableName) -> Checked {
        check(
            self.table_permission(subject, view, TablePrivilege::Ownership),
            || AccessDenied::create_view(view),
        )
    }

    /// DROP VIEW.
    pub fn check_can_drop_view(&self, subject: &Subject, view: &TableName) -> Checked {
        check(
            self.table_permission(subject, view, TablePrivilege::Ownership),
            || AccessDenied::drop_view(view),
        )
    }

    /// SHOW CREATE TABLE.
    pub fn check_can_show_create_table(&self, subject: &Subject, table: &TableName) -> Checked {
        check(
            self.table_permission(subject, table, TablePrivilege::Ownership),
            || AccessDenied::show_create_table(table),
        )
    }

    // ---- Schemas ---------------------------------------------------------------------------

    /// CREATE SCHEMA: owner of the schema, with `all` on the catalog.
    pub fn check_can_create_schema(&self, subject: &Subject, schema: &SchemaName) -> Checked {
        check(self.is_schema_owner(subject, schema), || {
            AccessDenied::create_schema(schema)
        })
    }

    /// DROP SCHEMA: owner of the schema, with `all` on the catalog.
    pub fn check_can_drop_schema(&self, subject: &Subject, schema: &SchemaName) -> Checked {
        check(self.is_schema_owner(subject, schema), || {
            AccessDenied::drop_schema(schema)
        })
    }

    // ---- Visibility ------------------------------------------------------------------------

    /// The catalogs of `catalogs` the subject may see (SHOW CATALOGS is always allowed and
    /// filtered).
    pub fn filter_catalogs(&self, subject: &Subject, catalogs: Vec<String>) -> Vec<String> {
        catalogs
            .into_iter()
            .filter(|catalog| self.any_catalog_access(subject, catalog))
            .collect()
    }

    /// SHOW SCHEMAS of `catalog`.
    pub fn check_can_show_schemas(&self, subject: &Subject, catalog: &str) -> Checked {
        check(
            self.any_catalog_access(subject, catalog),
            AccessDenied::show_schemas,
        )
    }

    /// The schemas of `catalog` the subject may see.
    pub fn filter_schemas(
        &self,
        subject: &Subject,
        catalog: &str,
        schemas: Vec<String>,
    ) -> Vec<String> {
        schemas
            .into_iter()
            .filter(|schema| {
                self.any_schema_access(subject, &SchemaName::new(catalog, schema.as_str()))
            })
            .collect()
    }

    /// SHOW TABLES of `schema`.
    pub fn check_can_show_tables(&self, subject: &Subject, schema: &SchemaName) -> Checked {
        check(self.any_schema_access(subject, schema), || {
            AccessDenied::show_tables(schema)
        })
    }

    /// Whether the subject may see `table` in listings: owner of its schema, or any privilege
    /// on it.
    pub fn can_see_table(&self, subject: &Subject, table: &TableName) -> bool {
        self.is_schema_owner(subject, &SchemaName::new(&table.catalog, &table.schema))
            || self.any_table_permission(subject, table)
    }

    /// SHOW COLUMNS / DESCRIBE of `table`.
    pub fn check_can_show_columns(&self, subject: &Subject, table: &TableName) -> Checked {
        check(self.any_table_permission(subject, table), || {
            AccessDenied::show_columns(table)
        })
    }

    /// The columns of `table` the subject may see: none without a privilege, all with a
    /// privilege beyond SELECT, else all but those the first matching rule denies.
    pub fn filter_columns(
        &self,
        subject: &Subject,
        table: &TableName,
        columns: Vec<String>,
    ) -> Vec<String> {
        if !self.any_table_permission(subject, table) {
            return vec![];
        }
        if table.in_information_schema() {
            return columns;
        }
        let Some(rule) = self.table_rule(subject, table) else {
            return vec![];
        };
        let select_only = rule
            .privileges
            .iter()
            .all(|p| matches!(p, TablePrivilege::Select | TablePrivilege::GrantSelect));
        if !select_only {
            return columns;
        }
        columns
            .into_iter()
            .filter(|c| rule.columns.get(c).is_none_or(|column| column.allow))
            .collect()
    }

    // ---- Row filters and column masks ------------------------------------------------------

    /// The row filter of `table` for the subject: the first matching rule's `filter`, if it
    /// has one (later rules are never consulted).
    pub fn row_filter(&self, subject: &Subject, table: &TableName) -> Option<PolicyExpression> {
        if table.in_information_schema() {
            return None;
        }
        let rule = self.table_rule(subject, table)?;
        rule.filter.as_ref().map(|filter| PolicyExpression {
            expression: filter.clone(),
            run_as: rule.filter_user.clone(),
            catalog: table.catalog.clone(),
            schema: table.schema.clone(),
        })
    }

    /// The mask of `column` in `table` for the subject, from the first matching rule.
    pub fn column_mask(
        &self,
        subject: &Subject,
        table: &TableName,
        column: &str,
    ) -> Option<PolicyExpression> {
        if table.in_information_schema() {
            return None;
        }
        let rule = self.table_rule(subject, table)?.columns.get(column)?;
        rule.mask.as_ref().map(|mask| PolicyExpression {
            expression: mask.clone(),
            run_as: rule.mask_user.clone(),
            catalog: table.catalog.clone(),
            schema: table.schema.clone(),
        })
    }

    // ---- Session properties ----------------------------------------------------------------

    /// SET SESSION of a system property.
    pub fn check_can_set_system_session_property(
        &self,
        subject: &Subject,
        property: &str,
    ) -> Checked {
        let allowed = self
            .system_session_properties
            .iter()
            .find(|r| r.who.matches(subject) && optional_matches(&r.property, property, ""))
            .is_some_and(|r| r.allow);
        check(allowed, || {
            AccessDenied::set_system_session_property(property)
        })
    }

    /// SET SESSION of `catalog`'s property (the message names the property only, as Trino's).
    pub fn check_can_set_catalog_session_property(
        &self,
        subject: &Subject,
        catalog: &str,
        property: &str,
    ) -> Checked {
        let allowed = self.can_access_catalog(subject, catalog, CatalogAccess::ReadOnly)
            && self
                .catalog_session_properties
                .iter()
                .find(|r| {
                    r.who.matches(subject)
                        && optional_matches(&r.catalog, catalog, &subject.user)
                        && optional_matches(&r.property, property, "")
                })
                .is_some_and(|r| r.allow);
        check(allowed, || {
            AccessDenied::set_catalog_session_property(property)
        })
    }

    // ---- Queries, system information, impersonation ----------------------------------------

    fn query_access(&self, subject: &Subject, owner: Option<&str>, required: QueryAccess) -> bool {
        let Some(rules) = &self.queries else {
            return true;
        };
        rules
            .iter()
            .find(|rule| {
                rule.who.matches(subject)
                    && match (owner, &rule.query_owner) {
                        (None, owner_pattern) => owner_pattern.is_none(),
                        (Some(owner), pattern) => optional_matches(pattern, owner, ""),
                    }
            })
            .is_some_and(|rule| rule.allow.contains(&required))
    }

    /// Running queries at all.
    pub fn check_can_execute_query(&self, subject: &Subject) -> Checked {
        check(
            self.query_access(subject, None, QueryAccess::Execute),
            AccessDenied::execute_query,
        )
    }

    /// Seeing a query of `owner`. The rules alone: the caller lets users see their own
    /// queries before asking.
    pub fn check_can_view_query_owned_by(&self, subject: &Subject, owner: &str) -> Checked {
        check(
            self.query_access(subject, Some(owner), QueryAccess::View),
            AccessDenied::view_query,
        )
    }

    /// Killing a query of `owner`. The rules alone, as for viewing.
    pub fn check_can_kill_query_owned_by(&self, subject: &Subject, owner: &str) -> Checked {
        check(
            self.query_access(subject, Some(owner), QueryAccess::Kill),
            AccessDenied::kill_query,
        )
    }

    /// Reading system information (nodes, cluster state).
    pub fn check_can_read_system_information(&self, subject: &Subject) -> Checked {
        let allowed = self
            .system_information
            .iter()
            .find(|r| r.who.matches(subject))
            .is_some_and(|r| r.read);
        check(allowed, AccessDenied::read_system_information)
    }

    /// Writing system information (for example shutting a node down).
    pub fn check_can_write_system_information(&self, subject: &Subject) -> Checked {
        let allowed = self
            .system_information
            .iter()
            .find(|r| r.who.matches(subject))
            .is_some_and(|r| r.write);
        check(allowed, AccessDenied::write_system_information)
    }

    /// Acting as `new_user` (the `X-Trino-User` of an authenticated principal). `$1`-style
    /// references in `new_user` take `original_user`'s groups, quoted as literals (Trino
    /// inserts them as pattern text; quoting keeps a user name from widening the rule).
    pub fn check_can_impersonate_user(&self, subject: &Subject, new_user: &str) -> Checked {
        let allowed = self
            .impersonation
            .iter()
            .find_map(|rule| {
                if !optional_matches_any(&rule.original_role, &subject.roles) {
                    return None;
                }
                let new_user_pattern: Cow<'_, str> = match &rule.original_user {
                    None => Cow::Borrowed(&rule.new_user),
                    Some(original) => {
                        let captures = original.captures(&subject.user)?;
                        match expand_references(&rule.new_user, &captures) {
                            Ok(expanded) => Cow::Owned(expanded),
                            // A reference to a group that does not exist: the rule cannot be
                            // evaluated, so it denies.
                            Err(()) => return Some(false),
                        }
                    }
                };
                let Ok(pattern) = RulePattern::fixed("new_user", &new_user_pattern) else {
                    return Some(false);
                };
                pattern.matches(new_user, "").then_some(rule.allow)
            })
            .unwrap_or(false);
        check(allowed, || {
            AccessDenied::impersonate_user(&subject.user, new_user)
        })
    }

    // ---- Functions and procedures ----------------------------------------------------------

    /// Executing `catalog.schema.function` (built-ins are `system.builtin`).
    pub fn check_can_execute_function(
        &self,
        subject: &Subject,
        catalog: &str,
        schema: &str,
        function: &str,
    ) -> Checked {
        let allowed = self.can_access_catalog(subject, catalog, CatalogAccess::ReadOnly)
            && self
                .functions
                .iter()
                .find(|r| {
                    r.who.matches(subject)
                        && optional_matches(&r.catalog, catalog, &subject.user)
                        && optional_matches(&r.schema, schema, &subject.user)
                        && optional_matches(&r.name, function, "")
                })
                .is_some_and(|r| {
                    r.privileges.contains(&RoutinePrivilege::Execute)
                        || r.privileges.contains(&RoutinePrivilege::GrantExecute)
                });
        check(allowed, || {
            AccessDenied::execute_function(&format!("{catalog}.{schema}.{function}"))
        })
    }

    /// CALL of `catalog.schema.procedure`.
    pub fn check_can_execute_procedure(
        &self,
        subject: &Subject,
        catalog: &str,
        schema: &str,
        procedure: &str,
    ) -> Checked {
        let allowed = self.can_access_catalog(subject, catalog, CatalogAccess::ReadOnly)
            && self
                .procedures
                .iter()
                .find(|r| {
                    r.who.matches(subject)
                        && optional_matches(&r.catalog, catalog, &subject.user)
                        && optional_matches(&r.schema, schema, &subject.user)
                        && optional_matches(&r.name, procedure, "")
                })
                .is_some_and(|r| {
                    r.privileges.contains(&RoutinePrivilege::Execute)
                        || r.privileges.contains(&RoutinePrivilege::GrantExecute)
                });
        check(allowed, || {
            AccessDenied::execute_procedure(&format!("{catalog}.{schema}.{procedure}"))
        })
    }
}

/// `template` with `$N`, `${N}` and `${name}` replaced by the (quoted) captured text; `$$` is
/// a literal `$`. An unknown group is an error.
fn expand_references(template: &str, captures: &regex::Captures<'_>) -> Result<String, ()> {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let reference: String = match chars.peek() {
            Some((_, '$')) => {
                chars.next();
                out.push_str(&regex::escape("$"));
                continue;
            }
            Some((_, '{')) => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, c)) => name.push(c),
                        None => return Err(()),
                    }
                }
                name
            }
            Some((_, d)) if d.is_ascii_digit() => {
                let mut digits = String::new();
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                digits
            }
            _ => return Err(()),
        };
        let group = match reference.parse::<usize>() {
            Ok(index) => captures.get(index),
            Err(_) => captures.name(&reference),
        };
        let text = match group {
            Some(m) => m.as_str(),
            None if reference.parse::<usize>().is_ok_and(|i| i < captures.len()) => "",
            None => return Err(()),
        };
        out.push_str(&regex::escape(text));
    }
    Ok(out)
}
