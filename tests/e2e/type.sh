#!/usr/bin/env bash
# Type a victim can read, measured in the PDFs: every example letter's body text is set at 11 pt Latin-equivalent
# or more, in one body size (besides headings, the address in the envelope window and the page furniture, 8.5 pt
# or less), Arabic-script text sized by its x-height so that it reads the size of the Latin beside it, and no
# letter shrinks to fit (at most three pages). Sizes come from `mutool draw -F stext`; x-heights from the font
# files by HarfBuzz's own hb-shape (the ink top of x; for Arabic script the tallest of the letter bodies heh, waw,
# meem, seen and sad). Every page renders.
. "$(dirname "$0")/lib.sh"

"$vipgen" letter examples/cases.csv -o "$tmp/letters" 2>"$tmp/err"
rc=$?
check type.letters_written "[ $rc -eq 0 ]" "exit $rc: $(head -c 400 "$tmp/err")"

# x-height per 1000 em of a font file, by hb-shape.
xheight() { # file letters...
    local file=$1 best=0 top
    shift
    for c in "$@"; do
        top=$(hb-shape --show-extents --no-glyph-names --font-size=1000 "$file" "$c" | sed -E 's/^\[[0-9]+=[^<]*<[-0-9]+,([-0-9]+),.*/\1/')
        [ "$top" -gt "$best" ] && best=$top
    done
    echo "$best"
}
fontdir=/usr/share/fonts/truetype/noto
latin_x=$(xheight "$fontdir/NotoSans-Regular.ttf" x)
naskh_x=$(xheight "$fontdir/NotoNaskhArabic-Regular.ttf" ه و م س ص)
nastaliq_x=$(xheight "$fontdir/NotoNastaliqUrdu-Regular.ttf" ه و م س ص)
check type.xheights_measured "[ '$latin_x' -gt 400 ] && [ '$naskh_x' -gt 200 ] && [ '$nastaliq_x' -gt 200 ]" \
    "x $latin_x, Naskh $naskh_x, Nastaliq $nastaliq_x"

# Per letter: "font size chars" lines from stext, then the checks in Perl (Latin-equivalent sizes).
for f in "$tmp"/letters/*.pdf; do
    name=$(basename "$f" .pdf)
    lang=${name##*_}
    mutool draw -F stext -o "$tmp/$name.stext" "$f" 2>/dev/null
    result=$(LATIN=$latin_x NASKH=$naskh_x NASTALIQ=$nastaliq_x perl -ne '
        if (/<font name="([^"]+)" size="([\d.]+)"/) { ($font, $size) = ($1, $2) }
        elsif (/<char /) { $n{$font}{$size}++ }
        END {
            # The Latin-equivalent of a size: the Latin size whose x stands as tall as the font'"'"'s letter bodies
            # (never more than the size itself: a script whose bodies stand taller is not set smaller).
            sub latin_eq { my ($font, $size) = @_;
                my $x = $font =~ /NotoNaskhArabic/ ? $ENV{NASKH} : $font =~ /NotoNastaliqUrdu/ ? $ENV{NASTALIQ} : 0;
                return $x && $x < $ENV{LATIN} ? $size * $x / $ENV{LATIN} : $size; }
            my ($body_font, $most) = ("", 0);
            for my $font (grep { !/Bold/ } keys %n) {
                my $total = 0; $total += $_ for values %{$n{$font}};
                ($body_font, $most) = ($font, $total) if $total > $most;
            }
            my @sizes = sort { $n{$body_font}{$b} <=> $n{$body_font}{$a} } keys %{$n{$body_font}};
            my $body = latin_eq($body_font, $sizes[0]);
            my @odd;
            for my $font (grep { !/Bold/ } keys %n) {
                for my $s (keys %{$n{$font}}) {
                    my $e = latin_eq($font, $s);
                    push @odd, sprintf("%s %s pt (%.2f Latin-equivalent, %d chars)", $font, $s, $e, $n{$font}{$s})
                        unless $e <= 8.5 + 0.01 || abs($e - $body) < 0.3;
                }
            }
            printf "%s %.2f %.2f|%s\n", $body_font, $sizes[0], $body, join("; ", @odd);
        }' "$tmp/$name.stext")
    read -r body_font body_size body_equiv <<<"${result%%|*}"
    odd=${result#*|}
    check "type.$lang.$name.body_at_least_11pt: $body_font $body_size pt" \
        "perl -e 'exit !($body_equiv >= 10.95)'" "Latin-equivalent $body_equiv pt"
    check "type.$lang.$name.one_body_size" "[ -n '$body_font' ] && [ -z \"\$odd\" ]" "$odd"
    pages=$(pdfinfo "$f" | awk '/^Pages:/{print $2}')
    check "type.$lang.$name.at_most_3_pages" "[ '$pages' -ge 1 ] && [ '$pages' -le 3 ]" "$pages pages"
    check "type.$lang.$name.pages_render" \
        "pdftoppm -png -r 60 '$f' '$tmp/$name' && [ \$(ls '$tmp/$name'-*.png | wc -l) -eq $pages ]" "pdftoppm failed"
done

# Arabic script beside Latin reads the same size: in the Farsi and Arabic letters (Naskh) the Arabic body is set
# larger than the Latin by the x-heights' ratio; in the Urdu one (Nastaliq, whose letter bodies stand taller than
# Latin's x) at the Latin size.
for lang in ar fa ur; do
    st=$(ls "$tmp"/*_$lang.stext)
    sizes=$(perl -ne 'if (/<font name="([^"]+)" size="([\d.]+)"/) { ($f, $s) = ($1, $2) } elsif (/<char /) { $n{"$f $s"}++ }
        END { for my $k (sort { $n{$b} <=> $n{$a} } keys %n) { my ($f, $s) = split / /, $k;
            $a //= $s if $f =~ /Naskh|Nastaliq/ && $f !~ /Bold/; $l //= $s if $f eq "NotoSans-Regular"; }
            print "$a $l" }' "$st")
    read -r arabic latin <<<"$sizes"
    if [ "$lang" = ur ]; then x=$nastaliq_x; else x=$naskh_x; fi
    check "type.$lang.arabic_reads_as_latin: $arabic pt beside $latin pt" \
        "perl -e 'exit !($arabic >= $latin && (abs($arabic * $x / $latin_x - $latin) < 0.1 || ($arabic == $latin && $x >= $latin_x)))'" \
        "Arabic script at $arabic pt (x-height $x/1000), Latin at $latin pt (x-height $latin_x/1000)"
done

# Characters common to all scripts (brackets, dashes, slashes) in Arabic and Farsi text take the run's font, or the
# common Latin one where Naskh has none: never Urdu's Nastaliq.
for lang in ar fa; do
    f=$(ls "$tmp"/letters/*_$lang.pdf)
    check "type.$lang.no_nastaliq_outside_urdu" "! pdffonts '$f' | grep -q Nastaliq" "$(pdffonts "$f" | grep Nastaliq)"
done

# Every page break of every booklet: a list marker (a bullet, or a number with its full stop in any script's
# digits) always has its item's text beside it on its baseline, never alone at the foot of a page (baselines from
# mutool's stext: every character's origin).
for lang in en pl ro ar fa ur pa zh-Hans; do
    "$vipgen" booklet --lang "$lang" -o "$tmp/booklet-$lang.pdf" 2>/dev/null
    alone=$(mutool draw -F stext -o - "$tmp/booklet-$lang.pdf" 2>/dev/null | perl -CS -ne '
        $page++ if /<page /;
        if (/<char [^>]* y="([\d.]+)"[^>]* c="([^"]*)"/) {
            my ($y, $c) = ($1, $2);
            $c =~ s/&#x([0-9a-fA-F]+);/chr(hex($1))/ge;
            $line{$page}{sprintf "%.0f", $y * 2} .= $c unless $c =~ /^\s$/;
        }
        END {
            for my $p (sort { $a <=> $b } keys %line) { for my $y (sort { $a <=> $b } keys %{$line{$p}}) {
                my $t = $line{$p}{$y};
                print "page $p: \x{2018}$t\x{2019} alone at y ", $y / 2, "; " if $t =~ /^(\x{2022}|\.\p{Nd}{1,2}|\p{Nd}{1,2}\.)$/;
            } }
        }')
    check "type.booklet.$lang.no_marker_alone" "[ -s '$tmp/booklet-$lang.pdf' ] && [ -z \"\$alone\" ]" "$alone"
done
