package mailin

import (
	"slices"
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/schulit/cmdb/server/cmdb"
)

// LoopHeader is the header our outgoing ticket mail should carry (value:
// the intake address); a mail that comes back with it is a loop.
const LoopHeader = "X-Loop"

// Classify decides what a parsed mail is. Drops come first, so that an
// auto-reply that quotes a ticket number is never taken as a reply:
//   - auto_reply: Auto-Submitted other than "no"; Precedence bulk, junk or
//     list; X-Autoreply or X-Autorespond present;
//   - bounce: a multipart/report delivery-status report, or a null,
//     MAILER-DAEMON or postmaster sender;
//   - loop: From is one of opts.OwnAddresses or X-Loop names one of them.
//
// Then a reply is one whose In-Reply-To or References name a message id of
// ours (cmdb.TicketMessageID), else one whose subject holds a ticket
// number; anything else opens a new ticket.
func Classify(h *mail.Header, m *cmdb.InboundMail, opts Options) cmdb.MailClass {
	drop := func(reason, detail string) cmdb.MailClass {
		return cmdb.MailClass{Kind: cmdb.MailDrop, DropReason: reason, Detail: detail}
	}
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		// A bounce says auto-replied too; tell them apart for the log.
		if isDeliveryReport(h) {
			return drop(cmdb.DropBounce, "delivery-status report")
		}
		return drop(cmdb.DropAutoReply, "Auto-Submitted: "+v)
	}
	if isDeliveryReport(h) {
		return drop(cmdb.DropBounce, "delivery-status report")
	}
	if isNullSender(h, m.FromAddress) {
		return drop(cmdb.DropBounce, "sender "+m.FromAddress)
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v {
	case "bulk", "junk", "list", "auto_reply":
		return drop(cmdb.DropAutoReply, "Precedence: "+v)
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if h.Has(k) {
			return drop(cmdb.DropAutoReply, k)
		}
	}
	own := func(a string) bool {
		return slices.Contains(opts.OwnAddresses, strings.ToLower(strings.TrimSpace(a)))
	}
	if own(m.FromAddress) {
		return drop(cmdb.DropLoop, "sent from the intake address")
	}
	for _, v := range h.Values(LoopHeader) {
		if own(v) {
			return drop(cmdb.DropLoop, LoopHeader+": "+v)
		}
	}

	// Newest reference first: In-Reply-To, then References from the end.
	refs := slices.Clone(m.InReplyTo)
	for i := len(m.References) - 1; i >= 0; i-- {
		refs = append(refs, m.References[i])
	}
	for _, id := range refs {
		if n, ok := cmdb.TicketNumberFromMessageID(id); ok {
			return cmdb.MailClass{Kind: cmdb.MailReply, TicketNumber: n, RefMessageID: id}
		}
	}
	if n, ok := cmdb.TicketNumberInSubject(m.Subject); ok {
		return cmdb.MailClass{Kind: cmdb.MailReply, TicketNumber: n}
	}
	return cmdb.MailClass{Kind: cmdb.MailNewTicket}
}

func isDeliveryReport(h *mail.Header) bool {
	ct, params, err := h.ContentType()
	return err == nil && ct == "multipart/report" &&
		strings.EqualFold(params["report-type"], "delivery-status")
}

// isNullSender reports a bounce sender: the null reverse path ("<>"), or
// MAILER-DAEMON / postmaster as the local part.
func isNullSender(h *mail.Header, from string) bool {
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return true
	}
	if from == "" || from == "<>" {
		return true
	}
	local, _, _ := strings.Cut(from, "@")
	local = strings.TrimPrefix(local, "<")
	return strings.EqualFold(local, "mailer-daemon") || strings.EqualFold(local, "postmaster")
}
