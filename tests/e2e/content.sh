#!/bin/sh
# The content as the law stands, read back from the produced PDFs (pdftotext) in every language: a Victims' Code
# complaint goes to the Ombudsman without an MP (booklet.s13.p8_v2 printed, the old text that said an MP was
# needed absent), the GOV.UK claims address gov.uk/claim-compensation-criminal-injury in every booklet (the old
# address absent), the 2-working-day referral in every booklet and letter, and the Relay UK line (18001 101) in
# every letter. Paragraph text is compared without spaces and format characters: right-to-left text comes back
# from pdftotext in logical order within a run, so Arabic-script paragraphs are compared run by run (pairs of
# neighbouring words that must come back together).
. "$(dirname "$0")/lib.sh"

langs="en pl ro ar fa ur pa zh-Hans"
for lang in $langs; do
    "$vipgen" booklet --lang "$lang" -o "$tmp/booklet-$lang.pdf" >"$tmp/booklet-$lang.err" 2>&1
    check "content.booklet.$lang.written" "[ -s '$tmp/booklet-$lang.pdf' ]" "$(head -3 "$tmp/booklet-$lang.err")"
    pdftotext -enc UTF-8 "$tmp/booklet-$lang.pdf" "$tmp/booklet-$lang.txt" 2>/dev/null
done
"$vipgen" letter examples/cases.csv -o "$tmp/letters" >"$tmp/letters.err" 2>&1
for lang in $langs; do
    f=$(ls "$tmp"/letters/*_"$lang".pdf 2>/dev/null | head -1)
    check "content.letter.$lang.written" "[ -n '$f' ] && [ -s '$f' ]" "$(head -3 "$tmp/letters.err")"
    [ -n "$f" ] && pdftotext -enc UTF-8 "$f" "$tmp/letter-$lang.txt" 2>/dev/null
done

# The text booklet.s13.p8 had before 29 January 2025's change (an MP was needed), per language.
cat > "$tmp/old_mp.tsv" <<'OLD'
en	You need to ask a Member of Parliament (MP) to pass your complaint to the Ombudsman. This can be your own MP or any other MP. You can find your MP on the UK Parliament website.
pl	Należy poprosić posła do Parlamentu (Member of Parliament, MP) o przekazanie skargi Rzecznikowi. Może to być poseł z Pana/Pani okręgu lub dowolny inny poseł. Posła ze swojego okręgu można znaleźć na stronie internetowej Parlamentu Wielkiej Brytanii.
ro	Trebuie să cereți unui deputat în Parlament (Member of Parliament, MP) să transmită plângerea Ombudsmanului. Poate fi deputatul din zona dumneavoastră sau oricare alt deputat. Puteți afla cine este deputatul din zona dumneavoastră pe site-ul Parlamentului Regatului Unit (UK Parliament).
ar	عليك أن تطلب من أحد أعضاء البرلمان (MP) أن يحيل شكواك إلى أمين المظالم. ويمكن أن يكون عضو البرلمان الذي يمثل منطقتك أو أي عضو آخر. ويمكنك معرفة عضو البرلمان الذي يمثل منطقتك على الموقع الإلكتروني لبرلمان المملكة المتحدة.
fa	باید از یک نمایندهٔ پارلمان (MP) بخواهید که شکایت شما را به بازرس ارجاع دهد. این می‌تواند نمایندهٔ منطقهٔ خودتان یا هر نمایندهٔ دیگری باشد. می‌توانید نمایندهٔ خود را در وب‌سایت پارلمان بریتانیا پیدا کنید.
ur	آپ کو کسی رکنِ پارلیمنٹ (Member of Parliament – MP) سے کہنا ہوگا کہ وہ آپ کی شکایت محتسب تک پہنچائیں۔ یہ آپ کے اپنے حلقے کے MP یا کوئی اور MP ہو سکتے ہیں۔ آپ اپنے MP کے بارے میں برطانوی پارلیمنٹ (UK Parliament) کی ویب سائٹ پر معلومات حاصل کر سکتے ہیں۔
pa	ਤੁਹਾਨੂੰ ਕਿਸੇ ਸੰਸਦ ਮੈਂਬਰ (MP) ਨੂੰ ਆਪਣੀ ਸ਼ਿਕਾਇਤ ਓਂਬਡਸਮੈਨ ਤੱਕ ਭੇਜਣ ਲਈ ਕਹਿਣਾ ਪਵੇਗਾ। ਇਹ ਤੁਹਾਡਾ ਆਪਣਾ MP ਜਾਂ ਕੋਈ ਹੋਰ MP ਹੋ ਸਕਦਾ ਹੈ। ਤੁਸੀਂ ਯੂਕੇ ਪਾਰਲੀਮੈਂਟ (UK Parliament) ਦੀ ਵੈੱਬਸਾਈਟ ਉੱਤੇ ਆਪਣੇ MP ਬਾਰੇ ਪਤਾ ਕਰ ਸਕਦੇ ਹੋ।
zh-Hans	您需要请一位国会议员（Member of Parliament，MP）将您的投诉转交给监察专员。可以是您所在选区的议员，也可以是其他任何议员。您可以在英国议会网站上查找您所在选区的议员。
OLD

/usr/bin/python3 - "$tmp" translations $langs <<'PY'
import re, sys, unicodedata
import xml.etree.ElementTree as ET
tmp, catalogues, langs = sys.argv[1], sys.argv[2], sys.argv[3:]
NS = '{urn:oasis:names:tc:xliff:document:2.0}'
RTL = {'ar', 'fa', 'ur'}

def units(lang):
    root = ET.parse(f'{catalogues}/{lang}.xlf').getroot()
    return {u.get('id'): u.find(f'{NS}segment/{NS}target').text or '' for u in root.iter(NS + 'unit')}

def squash(s):
    s = unicodedata.normalize('NFKC', s)
    return ''.join(c for c in s if not c.isspace() and unicodedata.category(c) not in ('Cf', 'Mn'))

def pairs(lang, text):
    # Neighbouring words; in Arabic script, within one right-to-left run (Latin, digits and punctuation end a run).
    out = []
    runs = re.split(r'[A-Za-z0-9().,:;/’“”«»\-–،؛۔.]+', text) if lang in RTL else [re.sub(r'[^\w\s]', ' ', text)]
    for run in runs:
        words = [squash(w) for w in run.split() if squash(w)]
        out += [a + b for a, b in zip(words, words[1:])]
    return out

def found(lang, text, pdftext, by_pairs=False):
    """The whole text found (left-to-right scripts in one column), or most pairs of neighbouring words (Arabic
    script; a two-column list, whose lines pdftotext interleaves). Nastaliq words do not always come back whole
    (some ligatures map to other letters), so up to 4 pairs in 10 may be missing; an absent paragraph has none."""
    flat = squash(pdftext)
    if not text:
        return False, 'no such unit in the catalogue'
    if lang not in RTL and not by_pairs:
        return squash(text) in flat, ''
    if lang == 'zh-Hans':
        chars = [c for c in squash(text) if unicodedata.category(c).startswith('L') or c.isdigit()]
        ps = [a + b for a, b in zip(chars, chars[1:])]
    else:
        ps = pairs(lang, text)
    missing = [p for p in ps if p not in flat]
    return len(ps) >= 3 and len(missing) * 10 <= len(ps) * 4, f'{len(missing)} of {len(ps)} word pairs missing: {missing[:3]}'

def report(name, ok, why):
    print(('PASS ' if ok else 'FAIL ') + name + ('' if ok else ': ' + why))

old_mp = dict(line.rstrip('\n').split('\t', 1) for line in open(f'{tmp}/old_mp.tsv', encoding='utf-8'))
for lang in langs:
    u = units(lang)
    try:
        booklet = open(f'{tmp}/booklet-{lang}.txt', encoding='utf-8').read()
        letter = open(f'{tmp}/letter-{lang}.txt', encoding='utf-8').read()
    except OSError as e:
        report(f'content.{lang}.extracted', False, str(e)); continue
    ok, why = found(lang, u.get('booklet.s13.p8_v2', ''), booklet)
    report(f'content.booklet.{lang}.ombudsman_without_mp', ok, why)
    # Nastaliq comes back from poppler in pieces, and the old and new paragraphs share most of their words: there
    # the old unit's absence from the catalogue is what tells.
    ok, why = found(lang, old_mp[lang], booklet) if lang != 'ur' else (False, '')
    report(f'content.booklet.{lang}.old_mp_text_absent', not ok and 'booklet.s13.p8' not in u, 'the old text or unit is still there')
    flat = ''.join(booklet.split())
    report(f'content.booklet.{lang}.claims_address', 'gov.uk/claim-compensation-criminal-injury' in flat,
           'gov.uk/claim-compensation-criminal-injury not in the booklet')
    report(f'content.booklet.{lang}.old_address_absent', 'criminal-injuries-compensation' not in flat,
           'gov.uk/criminal-injuries-compensation still printed')
    for unit in ('booklet.s10.p3_v2', 'booklet.s2.right4.text_v2'):
        ok, why = found(lang, u.get(unit, ''), booklet)
        report(f'content.booklet.{lang}.{unit}', ok, why)
    ok, why = found(lang, u.get('letter.rights.4_v2', ''), letter, by_pairs=True)
    report(f'content.letter.{lang}.referral_2_working_days', ok, why)
    report(f'content.letter.{lang}.relay_uk_18001_101', '18001 101' in letter, '18001 101 not in the letter')
    ok, why = found(lang, u.get('common.deaf_relay', ''), letter)
    report(f'content.letter.{lang}.relay_uk_line', ok, why)
PY
