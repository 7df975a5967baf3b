#!/usr/bin/perl

# What an auditor reads in the trail: the purpose a client states, checked
# against its organisation's purposes, and the case reference, recorded;
# the data subject; the host, server, environment and certificate of each
# decision; an administrator's edit once across two gateways, with what
# it changed; a deletion from the stream leaving a trace; and every
# writer's entries chained, so that a deletion or a change shows.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha256_hex);
use Test::More;
use Time::HiRes qw(sleep);
use IrTest;

my $t = IrTest->new;

$t->start_redis(notify => 'KA');
$t->client_cert($_) for qw(alice bob);

my $conf = <<'CONF';
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1h;
    ir_access_redis_notify on;
    ir_access_audit stream=ir:audit;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
        server_name gateway.example;
%%TLS%%
        ir_access on;
        ir_access_env prod;

        location ~ ^/persons/(?<code>[0-9-]+)$ {
            ir_access_purpose $http_x_ir_purpose case=$http_x_ir_case;
            ir_access_audit stream=ir:audit subject=$code;
            add_header X-Purpose $ir_access_purpose;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location / {
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF

$t->write_config($conf, workers => 2);
$t->start_nginx;

my $t2 = $t->instance('b');
$t2->write_config($conf, workers => 1);
$t2->start_nginx;

my $r = $t->redis;

$t->org('bank', name => 'Bank', env => 'prod', contract => 'C-1');
$r->sadd('ir:org:bank:purposes', 'LR-2023-45', 'AML');
$t->user('alice', ips => ['10.0.0.0/8'], unit => 'loans');
$t->user('bob', ips => ['10.0.0.0/8']);

my %alice = (cert => 'alice', ip => '10.0.0.1');

# the purpose: required where configured, one of the organisation's

$t->denied($t->get('/persons/010190-12345', %alice), 403,
           'purpose_required', 'no purpose stated');
$t->denied($t->get('/persons/010190-12345', %alice,
                   headers => ['X-IR-Purpose: marketing']),
           403, 'purpose_not_allowed', 'a purpose not in the contract');

my $mark = $t->log_mark;
$t->denied($t->get('/persons/010190-12345', %alice,
                   headers => ['X-IR-Purpose: AML',
                               "X-IR-Case: a\x01b"]),
           403, 'purpose_not_allowed', 'a case reference with a control '
           . 'character');
like($t->log_since($mark), qr/case reference holds a control character: "a\\x01b"/,
     'logged escaped');

$t->audit_reset;

my $res = $t->get('/persons/010190-12345', %alice,
                  headers => ['X-IR-Purpose: lr-2023-45',
                              'X-IR-Case: case 7/2026']);
$t->allowed($res, 'a purpose of the contract (in any case)');
is($res->{headers}{'x-purpose'}, 'lr-2023-45', '$ir_access_purpose');

$t->allowed($t->get('/other', %alice), 'no purpose where none is asked');

my @e = $t->wait_audit(2);
is(scalar @e, 2, 'two entries');

my ($read, $other) = @e;
my $host = `hostname`;
chomp $host;

is($read->{purpose}, 'lr-2023-45', 'the entry has the purpose');
is($read->{case}, 'case 7/2026', 'the case reference');
is($read->{subject}, '010190-12345', 'the data subject');
is($read->{host}, $host, 'the host');
is($read->{server}, 'gateway.example', 'the server');
is($read->{env}, 'prod', 'the environment');
is($read->{cert}, $t->sha256('alice'), 'the certificate');
is($other->{subject}, '', 'no subject where none is configured');
is($other->{purpose}, '', 'and no purpose');

is(join(' ', grep { !/^_id$/ } sort keys %$read),
   join(' ', sort qw(time host request_id mode server user org unit contract
                     env ip country cert method uri scope purpose case
                     subject decision reason status chain seq prev)),
   'every field, always');

# every writer's entries are chained

sub chains {
    my %chains;
    for my $x (@{ $r->xrange('ir:audit', '-', '+') }) {
        my @f = @{ $x->[1] };
        my %f = @f;
        push @{ $chains{$f{chain}} }, { fields => \@f, %f };
    }
    return \%chains;
}

sub digest {
    my @f = @{ $_[0] };
    my $text = '';
    while (my ($k, $v) = splice @f, 0, 2) {
        $text .= length($k) . ":$k" . length($v) . ":$v";
    }
    return sha256_hex($text);
}

# a broken link: the seq numbers or the digests of an entry's predecessor
sub breaks {
    my ($chains) = @_;
    my @b;
    for my $id (sort keys %$chains) {
        my $c = $chains->{$id};
        for my $i (1 .. $#$c) {
            push @b, "$id:$c->[$i]{seq}"
                if $c->[$i]{seq} != $c->[$i - 1]{seq} + 1
                   || $c->[$i]{prev} ne digest($c->[$i - 1]{fields});
        }
    }
    return @b;
}

$t->get("/persons/$_", %alice, headers => ['X-IR-Purpose: AML']) for 1 .. 6;
$t->wait_audit(8);
sleep 0.3;

my $chains = chains();
my @all = @{ $r->xrange('ir:audit', '-', '+') };
is(scalar(map { @$_ } values %$chains), scalar @all,
   'every entry carries its writer\'s chain');
is(scalar(grep { !length $_ } keys %$chains), 0, 'a chain named');
is(join(' ', breaks($chains)), '', 'every chain holds together');

my ($first) = sort { @{ $chains->{$b} } <=> @{ $chains->{$a} } }
              keys %$chains;
my $c = $chains->{$first};
cmp_ok(scalar @$c, '>=', 3, 'a chain of three entries and more');

# an entry deleted: the chain breaks there, and the deletion is in the
# trail

my $victim = $c->[1]{_id} // do {
    my @ids = map { $_->[0] } @{ $r->xrange('ir:audit', '-', '+') };
    my @mine = grep {
        my %f = @{ $r->xrange('ir:audit', $_, $_)->[0][1] };
        $f{chain} eq $first
    } @ids;
    $mine[1];
};
$r->xdel('ir:audit', $victim);

my @dels;
for (1 .. 100) {
    @dels = grep { $_->{event} eq 'audit_deleted' && $_->{op} eq 'xdel' }
            $t->audit_entries(events => 1);
    last if @dels;
    sleep 0.05;
}
is(scalar @dels, 1, 'the deletion is in the trail, once for two gateways');
is($dels[0]{op} // '', 'xdel', 'as an xdel');

my @b = breaks(chains());
is(scalar(grep { /^\Q$first\E:/ } @b), 1, 'the chain breaks where the entry was');

# an entry changed: its successor's link no longer holds

$c = chains()->{$first};
my %changed = @{ $c->[-2]{fields} };
my @copy = @{ $c->[-2]{fields} };
for (my $i = 0; $i < @copy; $i += 2) {
    $copy[$i + 1] = '192.0.2.66' if $copy[$i] eq 'ip';
}
isnt(digest(\@copy), $c->[-1]{prev}, 'a changed entry no longer matches '
     . 'its successor\'s "prev"');

# an administrator's edit: one entry across two gateways, with what it
# changed

$t->allowed($t->get('/other', %alice), 'alice cached');
$t->allowed($t2->get('/other', %alice), 'alice cached on the second gateway');
$t->audit_reset;

# the content is read when the notification comes: edits a moment apart,
# and the record cached again between them for a "before"
$r->sadd('ir:user:alice:ips', '198.51.100.20');
sleep 0.5;
$t->allowed($t->get('/other', %alice), 'alice cached again');
$r->srem('ir:user:alice:ips', '10.0.0.0/8');

my @edits;
for (1 .. 100) {
    @edits = grep { $_->{event} eq 'admin_change' }
             $t->audit_entries(events => 1);
    last if @edits >= 2;
    sleep 0.05;
}
sleep 0.5;
@edits = grep { $_->{event} eq 'admin_change' } $t->audit_entries(events => 1);

is(scalar @edits, 2, 'two edits, two entries, though two gateways saw them');
is($edits[0]{key}, 'ir:user:alice:ips', 'the key');
is($edits[0]{op}, 'sadd', 'the operation');
is($edits[0]{after}, '["10.0.0.0/8","198.51.100.20"]', 'the content after');
is($edits[0]{before}, '["10.0.0.0/8"]', 'the content before, from the cache');
is($edits[0]{added}, '["198.51.100.20"]', 'what was added');
is($edits[1]{removed}, '["10.0.0.0/8"]', 'and what the next edit removed');

$t->audit_reset;
$r->hset('ir:user:bob', 'password', '{PLAIN}secret');
for (1 .. 100) {
    @edits = grep { $_->{event} eq 'admin_change' }
             $t->audit_entries(events => 1);
    last if @edits;
    sleep 0.05;
}
unlike($edits[0]{after} // '', qr/secret/, 'a password is never shown');
like($edits[0]{after} // '', qr/"password":"sha256:[0-9a-f]{16}"/,
     'but its change is');

# a hash's "added" and "removed" compare the fields the gateway reads:
# the cache has no "locked_at" to compare, nor an administrator's note

$r->hset('ir:user:alice', 'locked_at', '2026-11-01T10:00:00.000Z',
         'note', 'ticket 42');
sleep 0.5;
$t->allowed($t->get('/other', %alice, ip => '198.51.100.20'),
            'alice cached with a note');
$t->audit_reset;
$r->hset('ir:user:alice', 'unit', 'Riga');
for (1 .. 100) {
    @edits = grep { $_->{event} eq 'admin_change' }
             $t->audit_entries(events => 1);
    last if @edits;
    sleep 0.05;
}
like($edits[0]{after} // '', qr/"note":"ticket 42"/,
     'the content after has every field');
is($edits[0]{added} // '', '{"unit":"Riga"}',
   'what was added is the field the edit set');
is($edits[0]{removed} // '', '{"unit":"loans"}',
   'what was removed is the value it replaced');

$t->stop_nginx;
$t2->stop_nginx;
$t->check_log;
$t2->check_log;

done_testing;
