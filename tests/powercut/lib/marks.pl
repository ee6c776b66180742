#!/usr/bin/perl
# marks.pl LOG MARKBASE: reads a powercut record log (docs/powercut.md) and prints the sweep's
# coordinates and the workload's marks, with writes counted from 1 over the run as powercut does:
#   epoch E FIRST LAST   the writes of epoch E are FIRST..LAST (LAST = FIRST-1 when none)
#   mark W TEXT          write W put the mark TEXT at or past byte MARKBASE (workload.sh)
use strict;
use warnings;

my ($log, $base) = @ARGV;
die "usage: marks.pl LOG MARKBASE\n" unless defined $base;
open(my $f, '<:raw', $log) or die "marks.pl: unable to open $log: $!\n";
my $hdr;
read($f, $hdr, 16) == 16 && substr($hdr, 0, 8) eq 'PCUTLOG1' or die "marks.pl: $log is not a record log\n";
my ($epoch, $writes, $first) = (0, 0, 1);
my %seen;    # a block written back again carries old marks too: each counts where it first lands
while (read($f, my $e, 20) == 20) {
	my ($magic, $type, $flags, $zero, $off, $len) = unpack('V C C v Q< V', $e);
	die "marks.pl: bad entry after write $writes\n" if $magic != 0x50435752;
	if ($type == 4) {
		print "epoch $epoch $first $writes\n";
		$epoch++;
		$first = $writes + 1;
		next;
	}
	$writes++;
	next unless $type == 1;
	my $data = '';
	last if read($f, $data, $len) != $len;    # a partial last entry ends the log
	if ($off >= $base) {
		for (my $o = 0; $o < $len; $o += 512) {
			my ($n, $text) = substr($data, $o, 512) =~ /^PCMARK n=(\d+) ([^\n]*?)\s*\n/ or next;
			print "mark $writes $text\n" unless $seen{$n}++;
		}
	}
}
print "epoch $epoch $first $writes\n";
