#!/usr/bin/perl
# bench/gentree-live.pl DIR SMALL MB: the upper of a Debian live session (bench/gentree.sh -m live
# says what is in it). Text is words from a fixed vocabulary (deterministic: srand 7);
# incompressible bytes come from /dev/urandom.
use strict;
use warnings;
use File::Path qw(make_path);

my ($dir, $n, $mb) = @ARGV;
die "usage: gentree-live.pl DIR SMALL MB\n" unless defined $mb;
srand(7);
open(my $rnd, '<:raw', '/dev/urandom') or die "gentree: unable to read /dev/urandom: $!\n";
my @w = qw(enable disable true false auto none default user session display monitor panel icon
	theme font size color window cache path file name value option level mode allow deny
	network proxy server client port host address local remote timeout retry interval keyboard
	layout locale language input output audio volume device driver power suspend screen lock
	update source package version depends recommends suggests section priority maintainer
	description installed architecture amd64 all main contrib bookworm security https http
	org debian mozilla firefox profile extension addon history bookmark cookie storage sync);
my $words = sub { my ($len) = @_; my $s = ''; while (length $s < $len) { $s .= $w[int rand @w] . ((rand() < 0.15) ? "\n" : ' ') } substr($s, 0, $len) };
my $text = sub {	# config-like: key = value lines
	my ($len) = @_; my $s = '';
	while (length $s < $len) { $s .= $w[int rand @w] . '.' . $w[int rand @w] . ' = ' . $w[int rand @w] . ' ' . int(rand 1000) . "\n" }
	substr($s, 0, $len);
};
my $raw = sub { my ($len) = @_; my $b = ''; read($rnd, $b, $len) == $len or die "gentree: short read of /dev/urandom\n"; $b };
my $put = sub {
	my ($path, $data) = @_;
	my ($d) = $path =~ m{^(.*)/}; make_path("$dir/$d") if defined $d && !-d "$dir/$d";
	open(my $f, '>:raw', "$dir/$path") or die "gentree: unable to write $dir/$path: $!\n";
	print $f $data; close $f or die "gentree: unable to write $dir/$path: $!\n";
};
my $hex = sub { join '', map { sprintf '%02X', int rand 256 } 1 .. $_[0] };

my $prof = 'home/user/.mozilla/firefox/x7k2m9qp.default-esr';
my ($nconf, $ncache) = (int($n / 4), int($n * 3 / 5));
my $nmisc = $n - $nconf - $ncache;
# configuration: etc/PKG/NAME.conf and ~/.config/APP/NAME, 12 a directory, a symlink every 40
for my $i (0 .. $nconf - 1) {
	my $top = $i % 3 ? 'etc' : 'home/user/.config';
	my $path = sprintf '%s/%s%d/%s%d.conf', $top, $w[int($i / 12) % @w], int($i / 12), $w[$i % @w], $i;
	$put->($path, $text->(50 + int rand 3000));
	symlink("../../$path", sprintf('%s/etc/alternatives/alt%d', $dir, $i)) or die "gentree: symlink: $!\n"
		if $i % 40 == 0 && (-d "$dir/etc/alternatives" || make_path("$dir/etc/alternatives"));
}
# the browser cache: one flat directory, half compressed media (random), half text
for my $i (0 .. $ncache - 1) {
	my $len = 500 + int(rand() ** 3 * 40000);
	$put->("$prof/cache2/entries/" . $hex->(20), $i % 2 ? $raw->($len) : $words->($len));
}
# the rest: dpkg file lists and desktop state
for my $i (0 .. $nmisc - 1) {
	if ($i % 2) {
		my $s = ''; $s .= '/usr/share/' . $w[int rand @w] . '/' . $w[int rand @w] . $_ . "\n" for 1 .. 5 + int rand 80;
		$put->(sprintf('var/lib/dpkg/info/%s%d.list', $w[$i % @w], $i), $s);
	} else {
		$put->(sprintf('home/user/.local/share/%s/%s%d', $w[int($i / 20) % @w], $w[$i % @w], $i), $words->(100 + int rand 2000));
	}
}
# large: apt lists (text), browser databases (pages of text and zeros), incompressible files
my $bytes = $mb * 1048576;
my ($apt, $db) = (int($bytes / 3), int($bytes / 4));
my $inc = $bytes - $apt - $db;
my $stanza = sub { my $p = $w[int rand @w] . '-' . $w[int rand @w]; "Package: $p\nVersion: " . int(rand 9) . '.' . int(rand 30) . "-1\nArchitecture: amd64\nMaintainer: Debian " . ucfirst($w[int rand @w]) . " Team <$w[int rand @w]\@debian.org>\nInstalled-Size: " . int(rand 90000) . "\nDepends: " . join(', ', map { $w[int rand @w] } 1 .. 1 + int rand 6) . "\nDescription: " . $words->(60 + int rand 300) . "\nSHA256: " . lc($hex->(32)) . "\n\n" };
for my $k (0 .. 1) {
	my $s = ''; $s .= $stanza->() while length $s < $apt / 2;
	$put->("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_" . qw(main contrib)[$k] . "_binary-amd64_Packages", substr($s, 0, $apt / 2));
}
for my $name (qw(places favicons cookies)) {
	my ($s, $len) = ('', int($db / 3));
	while (length $s < $len) { my $used = int rand 4096; $s .= $words->($used) . ("\0" x (4096 - $used)) }
	$put->("$prof/$name.sqlite", substr($s, 0, $len));
}
my @big = ('var/cache/apt/archives/firefox-esr_115.9.1esr-1_amd64.deb', 'var/cache/apt/archives/libreoffice-core_7.4.7-1_amd64.deb',
	'var/cache/apt/archives/linux-image-6.1.0-18-amd64_6.1.76-1_amd64.deb', 'home/user/Pictures/IMG_2041.jpg');
for my $k (0 .. $#big) {
	my $len = int($inc / @big);
	my $f = "$dir/$big[$k]"; my ($d) = $big[$k] =~ m{^(.*)/}; make_path("$dir/$d");
	open(my $o, '>:raw', $f) or die "gentree: unable to write $f: $!\n";
	while ($len > 0) { my $c = $len < 1048576 ? $len : 1048576; print $o $raw->($c); $len -= $c }
	close $o or die "gentree: unable to write $f: $!\n";
}
