#!/usr/bin/env perl
# Fails when a C++ file outside src/store holds an SQL statement against duroxide.* (every one
# lives in src/store: docs/architecture.md). Run by `make` (check-store-statements).
#
#   scripts/check-store-statements.pl FILE...
#   scripts/check-store-statements.pl --self-test FLAGGED CLEAN
#                  (the check itself: every line of FLAGGED marked "// FLAG" and only those
#                  are reported; nothing in CLEAN is; test/check/store_statements_*.cpp.txt)
#
# Reads each file as the compiler does: comments are dropped and adjacent string literals
# joined ("SELECT ... " "FROM duroxide.x" is one statement), raw strings included. A literal is a
# statement when it starts like one (SELECT, INSERT INTO, UPDATE ... SET, DELETE FROM, WITH ...
# AS, CALL, MERGE INTO, TRUNCATE, COPY, LOCK TABLE) and names a duroxide.* object; prose that
# merely names one ("see duroxide.register_plugin", "duroxide.max_payload_size (64 kB)") is not.
use strict;
use warnings;

my $statement_start = qr/^\s*\(?\s*(?:
      SELECT\b
    | INSERT\s+INTO\b
    | UPDATE\s+(?:ONLY\s+)?[\w."]+(?:\s+(?:AS\s+)?\w+)?\s+SET\b
    | DELETE\s+FROM\b
    | WITH\s+(?:RECURSIVE\s+)?[\w"]+(?:\s*\([^)]*\))?\s+AS\b
    | CALL\s
    | MERGE\s+INTO\b
    | TRUNCATE\b
    | COPY\s
    | LOCK\s+(?:TABLE\s+)?[\w."]+
    )/xi;
my $duroxide_object = qr/\bduroxide\s*\.\s*["A-Za-z_]/;

# The string literals of C++ source `text`, adjacent ones joined: [line, text] pairs.
sub literals {
    my ($text) = @_;
    my @found;
    my ($current, $current_line, $line) = (undef, 0, 1);
    my $end = sub {
        push @found, [$current_line, $current] if defined $current;
        $current = undef;
    };
    pos($text) = 0;
    while (pos($text) < length $text) {
        if ($text =~ /\G(\s+)/gc) {
            $line += ($1 =~ tr/\n//);
        } elsif ($text =~ m{\G//[^\n]*}gc) {
        } elsif ($text =~ m{\G/\*(.*?)\*/}gcs) {
            $line += ($1 =~ tr/\n//);
        } elsif ($text =~ /\G(?:u8|u|U|L)?R"([^(\s]*)\((.*?)\)\1"/gcs) {
            my $body = $2;
            $current_line = $line unless defined $current;
            $current .= $body;
            $line += ($body =~ tr/\n//);
        } elsif ($text =~ /\G(?:u8|u|U|L)?"((?:[^"\\\n]|\\.)*)"/gcs) {
            my $body = $1;
            $body =~ s/\\n/\n/g;
            $body =~ s/\\t/\t/g;
            $body =~ s/\\(.)/$1/g;
            $current_line = $line unless defined $current;
            $current .= $body;
        } elsif ($text =~ /\G[0-9][0-9A-Za-z_.']*/gc) {
            $end->();
        } elsif ($text =~ /\G'(?:[^'\\\n]|\\.)*'/gc) {
            $end->();
        } elsif ($text =~ /\G[A-Za-z_][A-Za-z_0-9]*/gc) {
            $end->();
        } else {
            $text =~ /\G./gcs;
            $end->();
        }
    }
    $end->();
    return @found;
}

# The statements of one file: [line, text] pairs.
sub statements_in {
    my ($file) = @_;
    open my $in, '<', $file or die "$file: $!\n";
    my $text = do { local $/; <$in> };
    close $in;
    return grep { $_->[1] =~ $statement_start && $_->[1] =~ $duroxide_object } literals($text);
}

if (@ARGV && $ARGV[0] eq '--self-test') {
    my (undef, $flagged, $clean) = @ARGV;
    open my $in, '<', $flagged or die "$flagged: $!\n";
    my @marked;
    while (<$in>) { push @marked, $. if m{// FLAG\b} }
    close $in;
    my $want = join ',', @marked;
    my $got = join ',', map { $_->[0] } statements_in($flagged);
    my @false = map { "$clean:$_->[0]" } statements_in($clean);
    if (!@marked || $got ne $want || @false) {
        print STDERR "error: scripts/check-store-statements.pl is broken: $flagged: reported "
          . "lines [$got], marked [$want]; $clean: reported [@false]\n";
        exit 1;
    }
    exit 0;
}

my $failures = 0;
for my $file (@ARGV) {
    for my $statement (statements_in($file)) {
        my ($line, $sql) = @$statement;
        (my $shown = $sql) =~ s/\s+/ /g;
        $shown = substr($shown, 0, 100) . '...' if length $shown > 100;
        print STDERR "$file:$line: statement against duroxide.* outside src/store: $shown\n";
        ++$failures;
    }
}
if ($failures) {
    print STDERR "error: every statement against duroxide.* lives in src/store (a named store "
      . "operation; src/store/README.md)\n";
    exit 1;
}
