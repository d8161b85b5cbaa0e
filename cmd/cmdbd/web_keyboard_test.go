package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// keyboard drives a page with keys only, checking after every key that
// the focus is on something one can see, inside the window, with a
// visible focus ring.
type keyboard struct {
	b     *browser
	steps int
}

// focusJS describes the focused element and says what is wrong with its
// focus: "" when it is visible, inside the window and ringed.
const focusJS = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body) return JSON.stringify({what: "body", bad: "the focus is on no element"});
	const label = (el.labels && el.labels[0] ? el.labels[0].textContent : "") || el.getAttribute("aria-label") || el.textContent || el.value || "";
	const what = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.name ? "[name=" + el.name + "]" : "") + " " + label.trim().replace(/\s+/g, " ").slice(0, 60);
	if (el.id === "main") return JSON.stringify({what, bad: ""}); // the skip link's target: a landmark, not a control
	const r = el.getBoundingClientRect();
	const cs = getComputedStyle(el);
	let bad = "";
	if (r.width < 1 || r.height < 1 || cs.visibility === "hidden") bad = "the focused element is not shown";
	else if (r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) bad = "the focused element is outside the window";
	else if ((cs.outlineStyle === "none" || parseFloat(cs.outlineWidth) === 0) && cs.boxShadow === "none") bad = "the focused element has no focus ring";
	return JSON.stringify({what, bad});
})()`

type focusState struct{ What, Bad string }

// key presses one key (or types text) without waiting for a page.
func (k *keyboard) key(keys string, opts ...chromedp.KeyOption) {
	k.b.t.Helper()
	k.steps++
	k.b.do(chromedp.KeyEvent(keys, opts...))
}

// focus checks the focused element and returns what it is.
func (k *keyboard) focus() string {
	k.b.t.Helper()
	var f focusState
	if err := json.Unmarshal([]byte(k.b.eval(focusJS)), &f); err != nil {
		k.b.t.Fatal(err)
	}
	if f.Bad != "" {
		k.b.t.Errorf("on %s, after %d keys: %s (%s)", k.b.path(), k.steps, f.Bad, f.What)
	}
	return f.What
}

// tabTo presses Tab until the focused element's description holds want,
// checking the focus at every step; at most max presses.
func (k *keyboard) tabTo(want string, max int) {
	k.b.t.Helper()
	var seen []string
	for range max {
		k.key(kb.Tab)
		what := k.focus()
		seen = append(seen, what)
		if strings.Contains(what, want) {
			return
		}
	}
	k.b.t.Fatalf("on %s, %d Tabs never reach %q; the focus went through:\n%s", k.b.path(), max, want, strings.Join(seen, "\n"))
}

// enter presses Enter on a link or button and waits for the next page.
func (k *keyboard) enter() {
	k.b.t.Helper()
	k.steps++
	ctx, cancel := context.WithTimeout(k.b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.Enter))); err != nil {
		k.b.t.Fatalf("Enter on %s (%s): %v", k.b.path(), k.focus(), err)
	}
}

// TestPortalKeyboard: from the start page to a ticket number with the
// keyboard alone (Tab, Shift+Tab, Enter, Space and typing; no click),
// on a desk screen: sign-in, the skip link, "Problem melden", a room, a
// device, the form. At every key the focus is visible and ringed.
func TestPortalKeyboard(t *testing.T) {
	t.Parallel()
	c, _ := startServer(t)
	f := newPortalFixture(t, c)
	b := newBrowser(t, c.base)
	b.do(chromedp.EmulateViewport(1280, 800))
	k := &keyboard{b: b}

	b.open("/")
	if p := b.path(); !strings.HasPrefix(p, "/anmelden") {
		t.Fatalf("signed out, / shows %s", p)
	}
	k.tabTo("Zum Inhalt springen", 1) // the skip link comes first
	k.tabTo("input#email", 8)
	k.key(f.email)
	k.tabTo("input#password", 1)
	k.key(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)) // back to the e-mail: the order holds both ways
	if what := k.focus(); !strings.Contains(what, "input#email") {
		t.Errorf("Shift+Tab from the password focuses %s, want the e-mail", what)
	}
	k.tabTo("input#password", 1)
	k.key(webPassword)
	k.enter() // Enter in the password field sends the form
	if p := b.path(); p != "/" {
		t.Fatalf("after sign-in by keyboard: %s", p)
	}

	// The skip link jumps over the header: the next Tab is the first
	// big button.
	k.tabTo("Zum Inhalt springen", 1)
	k.key(kb.Enter)
	k.focus()
	k.tabTo("Problem melden", 1)
	b.shot("22-tastatur-start")
	k.enter()
	if p := b.path(); p != "/melden" {
		t.Fatalf("Enter on Problem melden opens %s", p)
	}
	// The room: past the search field (typing filters the list), the
	// first room that matches.
	k.tabTo("input#q", 12)
	k.key("1.12")
	k.tabTo("Raum 1.12", 6)
	k.enter()
	k.tabTo("Beamer Raum 1.12", 12)
	k.enter()
	if p := b.path(); p != fmt.Sprintf("/melden/geraet/%d", f.projector) {
		t.Fatalf("Enter on the projector's card opens %s", p)
	}
	// The form: the category group (Space picks the focused choice), the
	// description, the urgency group, past the photo, the button.
	k.tabTo("input[name=category]", 12)
	k.key(" ")
	category := b.eval(`document.querySelector("input[name=category]:checked")?.closest("label").textContent.trim() ?? ""`)
	if category == "" {
		t.Fatal("Space on the first category chose none")
	}
	k.tabTo("textarea#description", 2)
	k.key("Das Bild bleibt schwarz.")
	k.tabTo("input[name=urgency]", 2)
	k.key(" ")
	k.tabTo("input#photo", 2)
	b.shot("23-tastatur-formular")
	k.tabTo("Problem melden", 2)
	k.enter()
	if p := b.path(); !strings.HasPrefix(p, "/gemeldet/") {
		t.Fatalf("after the report by keyboard: %s\n%s", p, b.text("main"))
	}
	number := strings.TrimSpace(b.text(".big-number"))
	tk := ticketByNumber(c, number)
	if tk["category"] != category || tk["description"] != "Das Bild bleibt schwarz." || tk["urgency"] != 1.0 {
		t.Errorf("the keyboard's report is %v", tk)
	}
	// And on to follow it.
	k.tabTo("Ticket verfolgen", 8)
	k.enter()
	if p := b.path(); p != "/tickets/"+number {
		t.Errorf("following the ticket by keyboard opens %s", p)
	}
	t.Logf("start page to ticket number: %d keys (typing counts as one)", k.steps)
}
