#!/usr/bin/perl

# Garbage everywhere a typo in redis-cli can put it: random bytes of
# random lengths, empty values, values in upper case, with a leading
# space or a trailing line feed, in every field of the user's and the
# organisation's records, in their sets, and in the failure counter;
# fields missing; keys of the wrong type.  For each round of garbage a
# small model of the decision (the steps in their order, and how the
# record's values are read) says which answer each request must get,
# with which reason: the guarded place, the same place again from the
# cache, and a place that wants a password.  A request answered
# otherwise, a 5xx, a hang or a crash fails the test.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

# a user of its own each round (the identity from a header, the
# certificate's pin in the record), so that no round's cached record
# decides for another
$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_env prod;
        ir_access_identity $http_x_user;

        location / {
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access_password on;
            ir_access_password_remember off;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /metrics {
            ir_access off;
            ir_access_status;
        }
    }
CONF

# what the garbage makes the module say, besides its denials
$t->expect_error(
    qr/ ir_access: the record "ir:(user:g|org:org)\d+" is unusable: /,
    qr/ ir_access: Redis key "ir:(user:g\d+(:ips)?|org:org\d+(:scopes)?)" is a \w+, not a (hash|set), and is ignored; /,
    qr/ ir_access: Redis key "ir:user:g\d+:ips" has entries that are not an IP address or a CIDR prefix without host bits, ignored: /,
    qr/ ir_access: ignoring a member of Redis key "ir:org:org\d+:scopes" that is empty, over-long or holds a control character/,
    qr/ ir_access: user "g\d+" locked after 5 failed logins; /,
    qr/\*\d+ ir_access: the user's password hash is in a format this system cannot check/);

$t->start_nginx;

my $r = $t->redis;
srand($ENV{IR_SEED} // 20261127);

my $fp = $t->fingerprint('alice');
my $sha = $t->sha256('alice');

# The model ------------------------------------------------------------------

my $LIMIT = 5;          # the default lockout

# a value that makes its record bad: over 4096 bytes, or a control byte
sub spoils { length($_[0]) > 4096 || $_[0] =~ /[\x00-\x1f\x7f]/ }

sub name_ok { $_[0] =~ /^[A-Za-z0-9._\@-]{1,64}\z/ }

sub lower { $_[0] =~ tr/A-Z/a-z/r }

# the words of a list field: separated by spaces, commas or tabs
sub words { grep { length } split /[ ,\t]+/, $_[0] }

sub lists {
    my ($list, $word) = @_;
    return defined $list && grep { lower($_) eq lower($word) } words($list);
}

# the SHA-256 pins of a "cert" field
sub pins {
    my ($cert) = @_;
    my @pins;

    for my $w (words($cert)) {
        next if lower($w) eq 'sha256';
        $w =~ s/^fingerprint=//i if length $w > 12;
        $w =~ s/://g;
        push @pins, lower($w) if $w =~ /^[0-9a-fA-F]{64}\z/;
    }

    return @pins;
}

# ngx_inet_addr(): a dotted quad as a number, or undef
sub inet_addr {
    my ($text) = @_;
    my ($addr, $octet, $dots) = (0, 0, 0);

    for my $c (split //, $text) {
        if ($c =~ /^[0-9]\z/) {
            $octet = $octet * 10 + $c;
            return undef if $octet > 255;

        } elsif ($c eq '.') {
            $addr = $addr * 256 + $octet;
            $octet = 0;
            $dots++;

        } else {
            return undef;
        }
    }

    return undef unless $dots == 3;

    $addr = $addr * 256 + $octet;

    return $addr == 0xffffffff ? undef : $addr;
}

# whether an allowlist entry is taken and allows 10.0.0.1
sub allows {
    my ($entry) = @_;
    my $client = (10 << 24) + 1;

    return 0 if $entry eq '' || length $entry > 117
                || $entry =~ /[^0-9a-fA-F.:\/]/;

    my ($text, $bits) = split m{/}, $entry, 2;
    my $addr = inet_addr($text);

    return 0 unless defined $addr;              # IPv6, or no address
    return $addr == $client unless defined $bits;
    return 0 unless $bits =~ /^[0-9]{1,9}\z/ && $bits <= 32;
    return $entry eq '0.0.0.0/0' if $bits == 0;

    my $mask = (0xffffffff << (32 - $bits)) & 0xffffffff;

    return 0 if ($addr & $mask) != $addr;       # host bits set

    return ($client & $mask) == $addr;
}

# how the module reads a "password" field
sub hash_kind {
    my ($hash) = @_;

    for my $p ('{PLAIN}', '{SHA}', '{SSHA}', '$apr1$', '$2a$', '$2b$',
               '$2y$', '$y$', '$gy$', '$7$', '$6$', '$5$', '$1$', '$sha1$')
    {
        return 'known' if length $hash > length $p
                          && substr($hash, 0, length $p) eq $p;
    }

    return $hash =~ /^[.\/0-9A-Za-z]{13}\z/ ? 'known' : 'unknown';
}

sub date_ok {
    my ($d) = @_;
    my ($y, $m, $day) = $d =~ /^([0-9]{4})-([0-9]{2})-([0-9]{2})\z/
        or return 0;
    my @mdays = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31);

    return 0 if $y < 1900 || $m < 1 || $m > 12 || $day < 1;

    my $leap = $y % 4 == 0 && ($y % 100 != 0 || $y % 400 == 0);

    return $day <= ($m == 2 && !$leap ? 28 : $mdays[$m - 1]);
}

# The answer to a request for $path, as "status reason", and whether its
# password was compared (which counts, and drops the cached record).
sub decide {
    my ($g, $path) = @_;
    my ($u, $o) = ($g->{user}, $g->{org});

    # step 2: the user's record

    return ('403 unknown_user', 0) unless $u && %$u;
    return ('403 bad_record', 0)
        if grep { spoils($_) } values %$u
           or defined $u->{org} && !name_ok($u->{org});

    if (defined $u->{status} && $u->{status} ne 'active') {
        return ($u->{status} eq 'locked' ? '403 account_locked'
                                         : '403 user_disabled', 0);
    }

    # 3: the pin; 4: the address

    return ('403 cert_mismatch', 0)
        unless defined $u->{cert} && grep { $_ eq $sha } pins($u->{cert});
    return ('403 ip_not_allowed', 0) unless grep { allows($_) } @{ $g->{ips} };

    # 6: the password

    my $compared = 0;

    if ($path eq '/pw/') {
        my $hash = $u->{password};

        return ('401 bad_password', 0) unless defined $hash;
        return ('403 bad_record', 0) if hash_kind($hash) eq 'unknown';

        $compared = 1;

        return ('401 bad_password', 1) if $hash ne '{PLAIN}secret';
    }

    # 7: the organisation and its contract

    return ('403 org_unknown', $compared)
        unless defined $u->{org} && $u->{org} eq $g->{orgname} && $o && %$o;
    return ('403 bad_record', $compared) if grep { spoils($_) } values %$o;
    return ('403 org_suspended', $compared)
        if defined $o->{status} && $o->{status} ne 'active';

    for my $f ('valid_from', 'valid_to') {
        return ('403 contract_not_active', $compared)
            if defined $o->{$f} && !date_ok($o->{$f});
    }

    # 8: the environment; 9: the scope

    return ('403 env_mismatch', $compared) unless lists($o->{env}, 'prod');

    if ($path eq '/') {
        return ('403 scope_denied', $compared)
            unless (!defined $u->{scopes} || lists($u->{scopes}, 'person.basic'))
                   && grep { length && !spoils($_)
                             && lower($_) eq 'person.basic' }
                           @{ $g->{scopes} };
    }

    return ('200 allow', $compared);
}

# The garbage ----------------------------------------------------------------

sub junk {
    my $len = int(rand(4)) == 0 ? int(rand(5000)) : int(rand(40));
    return join '', map { chr(int(rand(256))) } 1 .. $len;
}

# sometimes the right thing, sometimes garbage that looks nearly right:
# the value, and what was done to it
sub field {
    my ($good) = @_;

    return ($good, undef) if rand() < 0.85;

    my @kinds = ([ junk => junk() ], [ empty => '' ], [ upper => uc $good ],
                 [ space => " $good" ], [ 'line feed' => "$good\n" ]);
    my $k = $kinds[int(rand(@kinds))];

    return ($k->[1], $k->[0]);
}

# a hash of fields, some garbled, some missing
sub record {
    my ($what, $good, $g) = @_;
    my %h;

    for my $f (sort keys %$good) {
        if (rand() < 0.05) {
            push @{ $g->{what} }, "no $what.$f";
            next;
        }

        my ($v, $kind) = field($good->{$f});
        $h{$f} = $v;
        push @{ $g->{what} }, "$what.$f $kind" if $kind;
    }

    return \%h;
}

sub members {
    my ($what, $good, $n, $g) = @_;
    my %m;

    for (1 .. $n) {
        my ($v, $kind) = field($good);
        $m{$v} = 1;
        push @{ $g->{what} }, "$what $kind" if $kind;
    }

    return [ keys %m ];
}

sub garbage {
    my ($i) = @_;
    my $g = { name => "g$i", orgname => "org$i", what => [] };

    $g->{user} = record('user', { org => "org$i", status => 'active',
                                  cert => $fp, password => '{PLAIN}secret',
                                  unit => 'loans', scopes => 'person.basic' },
                        $g);
    $g->{ips} = members('ips', '10.0.0.0/8', 1 + int(rand(3)), $g);
    $g->{org} = record('org', { name => 'Bank', status => 'active',
                                env => 'prod', valid_from => '2020-01-01',
                                valid_to => '2099-12-31',
                                contract => 'C-1' }, $g);
    $g->{scopes} = members('scopes', 'person.basic', 1 + int(rand(2)), $g);

    # now and then a key of the wrong type
    for my $k ([ user => 0.03 ], [ ips => 0.15 ], [ org => 0.05 ],
               [ scopes => 0.05 ])
    {
        next unless rand() < $k->[1];
        $g->{wrong}{ $k->[0] } = 1;
        push @{ $g->{what} }, "$k->[0] of the wrong type";
    }

    # the failure counter: words an admin typed, or a count below the limit
    my $c = rand();
    if ($c < 0.1) {
        $g->{fails} = 'z' . junk();
        push @{ $g->{what} }, 'fails junk';
    } elsif ($c < 0.2) {
        $g->{fails} = int(rand($LIMIT));
        push @{ $g->{what} }, "fails $g->{fails}";
    }

    return $g;
}

sub store {
    my ($g) = @_;
    my $u = "ir:user:$g->{name}";
    my $o = "ir:org:$g->{orgname}";

    if ($g->{wrong}{user}) {
        $r->rpush($u, 'org', $g->{orgname});
        $g->{user} = undef;
    } else {
        $r->hset($u, $_, $g->{user}{$_}) for keys %{ $g->{user} };
    }

    if ($g->{wrong}{ips}) {
        $r->set("$u:ips", junk());
        $g->{ips} = [];
    } else {
        $r->sadd("$u:ips", @{ $g->{ips} });
    }

    if ($g->{wrong}{org}) {
        $r->set($o, junk());
        $g->{org} = undef;
    } else {
        $r->hset($o, $_, $g->{org}{$_}) for keys %{ $g->{org} };
    }

    if ($g->{wrong}{scopes}) {
        $r->set("$o:scopes", junk());
        $g->{scopes} = [];
    } else {
        $r->sadd("$o:scopes", @{ $g->{scopes} });
    }

    $r->set("$u:fails", $g->{fails}) if defined $g->{fails};
}

# The rounds -----------------------------------------------------------------

# without garbage, the model and the module agree that all is allowed
my $clean = { name => 'g0', orgname => 'org0', what => [],
              user => { org => 'org0', status => 'active', cert => $fp,
                        password => '{PLAIN}secret', unit => 'loans',
                        scopes => 'person.basic' },
              ips => ['10.0.0.0/8'],
              org => { name => 'Bank', status => 'active', env => 'prod',
                       valid_from => '2020-01-01', valid_to => '2099-12-31',
                       contract => 'C-1' },
              scopes => ['person.basic'] };

my @rounds = ($clean, map { garbage($_) } 1 .. 60);

my %m0 = $t->metrics;
my ($lookups, %seen) = (0);

for my $g (@rounds) {
    store($g);

    my $what = join(', ', @{ $g->{what} }) || 'no garbage';
    my %req = (cert => 'alice', ip => '10.0.0.1', user => "$g->{name}:secret",
               headers => ["X-User: $g->{name}"]);

    # the guarded place looks the record up, the password place takes it
    # from the cache, and the guarded place again unless a compared
    # password dropped it
    my ($first) = decide($g, '/');
    my ($pw, $compared) = decide($g, '/pw/');
    my $again = $first;

    # a wrong password on a count one below the limit locks the user
    $again = '403 account_locked'
        if $pw eq '401 bad_password' && $compared
           && ($g->{fails} // '') =~ /^[0-9]+\z/ && $g->{fails} + 1 >= $LIMIT;

    $lookups += 1 + $compared;

    for my $q (['/', $first, 'looked up'], ['/pw/', $pw, 'with a password'],
               ['/', $again, $compared ? 'looked up again' : 'from the cache'])
    {
        my ($path, $want, $how) = @$q;
        my $res = $t->get($path, %req);

        my ($reason) = $res->{body}
            =~ /^\{"error":"([a-z_]+)","request_id":"[0-9a-f]{32}"\}$/;
        $reason = 'allow' if $res->{status} == 200
                             && $res->{body} =~ /"person":"sample"/;

        is("$res->{status} " . ($reason // "?: $res->{body}"), $want,
           "$g->{name} $path $how: $what");

        $seen{$want}++;
    }
}

my %m = $t->metrics;
is(($m{ir_access_cache_misses_total} // 0)
   - ($m0{ir_access_cache_misses_total} // 0), $lookups,
   "$lookups lookups, the other requests decided from the cache");

note(join ', ', map { "$seen{$_} x $_" } sort keys %seen);

$t->stop_nginx;
$t->check_log;

done_testing;
