-- German and other placeholders that school inventories and authority
-- exports put where a serial number belongs ("unbekannt", "k.A.", ...).
-- The server compares junk entries also without punctuation and case, so
-- "k. A.", "K.A" and "KA" all match 'k.A.'. Values of one or two
-- characters ("-", "?") and values without letters or digits are junk
-- anyway; they are listed so that the list says what is meant.
INSERT INTO junk_identifiers (kind, value) VALUES
    ('serial', 'unbekannt'), ('serial', 'k.A.'), ('serial', 'keine'), ('serial', 'kein'),
    ('serial', 'ohne'), ('serial', '-'), ('serial', '--'), ('serial', '?'), ('serial', 'n/a'),
    ('serial', 'nicht vorhanden'), ('serial', 'nicht bekannt'), ('serial', 'nicht lesbar'),
    ('serial', 'fehlt'), ('serial', 'leer'), ('serial', 'siehe oben'), ('serial', 'diverse'),
    ('serial', 'ohne Nummer'), ('serial', 'keine Angabe'), ('serial', 'keine Seriennummer'),
    ('serial', 'unknown serial'), ('serial', 'TBD'), ('serial', 'xxx')
ON CONFLICT DO NOTHING;
