package web

import (
	"net/http"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// The audit log (AccountStore.FindAudit, as GET /audit): read-only,
// newest first, filtered by action and authority, 50 a page; the export
// holds every page.

func (s *server) adminAuditRoutes(h func(string, handler)) {
	h("GET /verwaltung/protokoll", s.auditList)
}

const auditPage = 50

// auditActions are the actions the filter offers (the stores write
// these; see the Audit* constants and the stores' audit calls).
var auditActions = []string{cmdb.AuditSignIn, cmdb.AuditSignInFailed, cmdb.AuditSignOut, cmdb.AuditSignOutAll, cmdb.AuditLockedOut,
	cmdb.AuditUnlocked, cmdb.AuditUserCreated, cmdb.AuditUserUpdated, cmdb.AuditPasswordChanged, cmdb.AuditMembershipAdded,
	cmdb.AuditMembershipRemove, cmdb.AuditUserDeactivated, cmdb.AuditUserActivated, cmdb.AuditTokenCreated, cmdb.AuditTokenRevoked,
	cmdb.AuditOrgRenamed, cmdb.AuditOrgDeleted, cmdb.AuditMerge, cmdb.AuditLockReleased, cmdb.AuditLockSet, cmdb.AuditOIDCConfigured,
	cmdb.AuditCalendarSet, cmdb.AuditSLATargetsSet, cmdb.AuditRepeatRuleSet, cmdb.AuditPatternRuleSet, "enrolment_token_created", "enrolment_token_revoked",
	"device_enrolled", "snmp_credential_created", "snmp_credential_updated", "snmp_credential_deleted", "snmp_target_deleted", "snmp_range_deleted"}

// auditAction names an action in words where the catalogue has them.
func auditAction(rq *request, a string) string {
	if msg, ok := rq.tr.lookup("admin.audit.action." + a); ok {
		return msg
	}
	return a
}

func (s *server) auditList(w http.ResponseWriter, r *http.Request, rq *request) error {
	t := rq.tr.T
	q := r.URL.Query()
	f := cmdb.AuditFilter{AuthorityID: queryID(r, "behoerde"), Action: q.Get("aktion"), Limit: auditPage}
	page := max(int(queryID(r, "seite")), 1)
	f.Offset = (page - 1) * auditPage
	var events []*cmdb.AuditEvent
	var total int
	if exportFormat(r) != "" {
		f.Limit, f.Offset = 1000, 0
		for range 50 {
			got, n, err := s.opts.Accounts.FindAudit(r.Context(), rq.Scope, f)
			if err != nil {
				return err
			}
			events, total = append(events, got...), n
			if len(got) < f.Limit || len(events) >= n {
				break
			}
			f.Offset += f.Limit
		}
	} else {
		var err error
		if events, total, err = s.opts.Accounts.FindAudit(r.Context(), rq.Scope, f); err != nil {
			return err
		}
	}
	users, err := s.opts.Accounts.FindUsers(r.Context(), rq.Scope)
	if err != nil {
		return err
	}
	who := map[string]string{}
	for _, u := range users {
		who["user:"+itoa(u.ID)] = u.Name
	}
	auths, err := s.opts.Tenants.FindAuthorities(r.Context(), rq.Scope)
	if err != nil {
		return err
	}
	authName := map[int64]string{}
	for _, a := range auths {
		authName[a.ID] = a.Name
	}
	filter := newForm(rq, "filter", "/verwaltung/protokoll", t("admin.filter.show"))
	filter.Get = true
	acts := []adminOption{{Value: "", Label: t("admin.filter.all")}}
	for _, a := range auditActions {
		acts = append(acts, adminOption{Value: a, Label: auditAction(rq, a)})
	}
	filter.choice("aktion", t("admin.field.action"), f.Action, acts)
	if len(auths) > 1 {
		filter.choice("behoerde", t("admin.field.authority"), q.Get("behoerde"), append([]adminOption{{Value: "", Label: t("admin.filter.all")}}, authorityOptions(auths)...))
	}
	l := &adminList{Caption: t("admin.audit.title"), Empty: t("admin.audit.none"), Filter: filter,
		Columns: []string{t("admin.field.when"), t("admin.field.who"), t("admin.field.action"), t("admin.field.target"), t("admin.field.authority"), t("admin.field.ip")}}
	for _, e := range events {
		actor := e.Actor
		if n, ok := who[e.Actor]; ok {
			actor = n + " (" + e.Actor + ")"
		}
		target := e.Target
		if n, ok := who[e.Target]; ok {
			target = n + " (" + e.Target + ")"
		}
		l.Rows = append(l.Rows, adminRow{Cells: []adminCell{{Text: rq.tr.DateTime(e.At)}, {Text: actor}, {Text: auditAction(rq, e.Action)},
			{Text: target}, {Text: authName[e.AuthorityID]}, {Text: strings.TrimSpace(e.IP)}}})
	}
	l.Pager = pager(r, rq, page, auditPage, total)
	l.exports(r, rq, "protokoll")
	v := &adminView{Heading: t("admin.audit.title"), Intro: t("admin.audit.intro"), Blocks: []*adminBlock{{ID: "list", List: l}}}
	return s.renderAdmin(w, r, rq, http.StatusOK, "admin.audit.title", v)
}
