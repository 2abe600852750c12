#!/usr/bin/env bash
# Justified text, measured in the PDFs (the booklets and the example letters): in Arabic, Farsi and Urdu no word gap
# wider than 1.5 times the normal space of its font and size, in English, Polish and Romanian twice (a looser line is
# set start-aligned); Arabic and Farsi lines lengthened with kashida (tatweel glyphs) instead, each kashida between
# two letters, never beside a space; Urdu's Nastaliq never stretched with tatweel. Per character positions come from `mutool draw -F stext` (a gap: from a space's origin to the leftmost
# origin of the word to its right; the normal space: the space's own box); the glyphs drawn from `mutool trace`,
# the tatweel's glyph in each font from the font file by HarfBuzz's hb-shape. A kashida's tatweels carry no text
# of their own (U+200B, which the engines drop), unlike a tatweel typed in the text.
. "$(dirname "$0")/lib.sh"

"$vipgen" letter examples/cases.csv -o "$tmp/letters" >"$tmp/err" 2>&1
rc=$?
check justify.letters_written "[ $rc -eq 0 ]" "exit $rc: $(head -c 400 "$tmp/err")"
for lang in ar fa ur en pl ro; do
    "$vipgen" booklet --lang "$lang" -o "$tmp/booklet-$lang.pdf" >"$tmp/err" 2>&1
    rc=$?
    check "justify.booklet_$lang.written" "[ $rc -eq 0 ]" "exit $rc: $(head -c 400 "$tmp/err")"
done

# The tatweel's glyph in each font, by hb-shape.
fontdir=/usr/share/fonts/truetype/noto
tatweel() { hb-shape --no-glyph-names --no-clusters --no-positions "$1" "ـ" | tr -d '[]'; }
naskh=$(tatweel "$fontdir/NotoNaskhArabic-Regular.ttf")
naskh_bold=$(tatweel "$fontdir/NotoNaskhArabic-Bold.ttf")
nastaliq=$(tatweel "$fontdir/NotoNastaliqUrdu-Regular.ttf")
nastaliq_bold=$(tatweel "$fontdir/NotoNastaliqUrdu-Bold.ttf")
check justify.tatweel_glyphs "[ '$naskh' -gt 0 ] && [ '$naskh_bold' -gt 0 ] && [ '$nastaliq' -gt 0 ] && [ '$nastaliq_bold' -gt 0 ]" \
    "Naskh $naskh, bold $naskh_bold, Nastaliq $nastaliq, bold $nastaliq_bold"

for f in "$tmp"/booklet-*.pdf "$tmp"/letters/*_{ar,fa,ur,en,pl,ro}.pdf; do
    name=$(basename "$f" .pdf)
    lang=${name##*[-_]}
    # Arabic script: 1.5 spaces at most (kashida takes the rest); other space-justified text: twice the space.
    case $lang in ar | fa | ur) limit=1.5 ;; *) limit=2.0 ;; esac
    mutool draw -F stext -o "$tmp/$name.stext" "$f" 2>/dev/null
    # "spaces widest_ratio wide_gaps|detail"
    result=$(LIMIT=$limit perl -ne '
        sub line_done {
            my @c = sort { $a->{x0} <=> $b->{x0} } @chars;
            for my $k (0 .. $#c) {
                next unless $c[$k]{c} eq " " && $k > 0 && $k < $#c && $c[$k - 1]{c} ne " ";
                # The word to the right: up to the next space.
                my $left = 1e9;
                for (my $j = $k + 1; $j <= $#c && $c[$j]{c} ne " "; $j++) { $left = $c[$j]{x0} if $c[$j]{x0} < $left }
                my $normal = $c[$k]{x1} - $c[$k]{x0};
                next if $left == 1e9 || $normal <= 0;
                my $ratio = ($left - $c[$k]{x0}) / $normal;
                $spaces++;
                $widest = $ratio if $ratio > $widest;
                if ($ratio > $ENV{LIMIT} + 0.01) {
                    $wide++;
                    $detail .= sprintf(" %.2f spaces at x=%.1f y=%.1f;", $ratio, $c[$k]{x0}, $c[$k]{y}) if $wide <= 5;
                }
            }
            @chars = ();
        }
        BEGIN { ($spaces, $widest, $wide, $detail) = (0, 0, 0, "") }
        if (/<font name="([^"]+)" size="([\d.]+)"/) { ($font, $size) = ($1, $2) }
        elsif (/<char quad="([-\d.]+) [-\d.]+ ([-\d.]+) .* y="([-\d.]+)" .* c="([^"]*)"/) {
            push @chars, {x0 => $1, x1 => $2, y => $3, c => $4, font => $font, size => $size} }
        elsif (/<\/line>/) { line_done() }
        END { printf "%d %.3f %d|%s\n", $spaces, $widest, $wide, $detail }
    ' "$tmp/$name.stext")
    read -r spaces widest wide <<<"${result%%|*}"
    detail=${result#*|}
    # Kashidas: runs of tatweel glyphs without text of their own, each with a letter on either side in its run.
    mutool trace "$f" >"$tmp/$name.trace" 2>/dev/null
    read -r kashidas tatweels bad < <(NASKH=$naskh NASKH_BOLD=$naskh_bold NASTALIQ=$nastaliq NASTALIQ_BOLD=$nastaliq_bold \
        perl -CSD -ne '
        sub span_done {
            for (my $k = 0; $k <= $#g; $k++) {
                next unless $g[$k]{glyph} == $tatweel && $g[$k]{u} ne "\x{640}";
                my $j = $k;
                $j++ while $j < $#g && $g[$j + 1]{glyph} == $tatweel && $g[$j + 1]{u} ne "\x{640}";
                $kashidas++;
                $tatweels += $j - $k + 1;
                $bad++ unless $k > 0 && $j < $#g && $g[$k - 1]{u} !~ /^\s*$/ && $g[$j + 1]{u} !~ /^\s*$/;
                $k = $j;
            }
            @g = ();
        }
        BEGIN { ($kashidas, $tatweels, $bad, $tatweel) = (0, 0, 0, -1) }
        if (/<span font="[A-Z]+\+([^"]+)"/) {
            my $font = $1;
            $tatweel = $font eq "NotoNaskhArabic-Regular" ? $ENV{NASKH} : $font eq "NotoNaskhArabic-Bold" ? $ENV{NASKH_BOLD}
                     : $font eq "NotoNastaliqUrdu-Regular" ? $ENV{NASTALIQ} : $font eq "NotoNastaliqUrdu-Bold" ? $ENV{NASTALIQ_BOLD} : -1;
        } elsif (/<g unicode="([^"]*)" glyph="(\d+)"/) { push @g, {u => $1, glyph => $2} }
        elsif (/<\/span>/) { span_done() }
        END { print "$kashidas $tatweels $bad\n" }' "$tmp/$name.trace")
    echo "INFO justify.$name: $spaces word gaps, widest $widest spaces; $kashidas kashidas of $tatweels tatweels"
    check "justify.$name.gaps_measured" "[ '$spaces' -gt 20 ]" "$spaces word gaps found"
    check "justify.$name.no_gap_over_${limit}_spaces" "[ '$wide' -eq 0 ]" "$wide gaps wider:$detail"
    case $lang in
    ar | fa)
        case $name in
        booklet-*) check "justify.$name.kashida_used" "[ '$kashidas' -gt 20 ]" "$kashidas kashidas" ;;
        esac
        check "justify.$name.kashidas_between_letters" "[ '$bad' -eq 0 ]" "$bad of $kashidas kashidas beside a space or at a line end"
        ;;
    ur)
        check "justify.$name.no_tatweel_in_nastaliq" "[ '$tatweels' -eq 0 ]" "$tatweels tatweels"
        ;;
    esac
    check "justify.$name.pages_render" "pdftoppm -png -r 40 -f 1 -l 2 '$f' '$tmp/$name'" "pdftoppm failed"
done
