#!/usr/bin/perl

# Garbage everywhere a typo in redis-cli can put it: random bytes of
# random lengths in every field of the user's and the organisation's
# records, their sets, and the failure counter, with and without the
# cache.  Every request gets a clear answer (a denial, or an allow when
# the garbage happens to be harmless), never a 5xx, a hang or a crash.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IrTest;

my $t = IrTest->new;

$t->start_redis;
$t->client_cert('alice');

$t->write_config(<<'CONF', workers => 2);
    ir_access_redis %%REDIS%%;
    ir_access_cache zone=ir:1m ttl=1s;

    server {
        listen 127.0.0.1:%%PORT%% ssl;
%%TLS%%
        ir_access on;
        ir_access_env prod;

        location / {
            ir_access_scope person.basic;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }

        location /pw/ {
            ir_access_password on;
            proxy_pass http://127.0.0.1:%%BACKEND%%;
        }
    }
CONF
$t->start_nginx;

my $r = $t->redis;
srand($ENV{IR_SEED} // 20261127);

sub junk {
    my $len = int(rand(4)) == 0 ? int(rand(5000)) : int(rand(40));
    return join '', map { chr(int(rand(256))) } 1 .. $len;
}

# sometimes the right thing, sometimes garbage that looks nearly right
sub field {
    my ($good) = @_;
    return $good if rand() < 0.85;
    my @choices = (junk(), '', uc $good, " $good", "$good\n");
    return $choices[int(rand(@choices))];
}

my $fp = $t->fingerprint('alice');
my (%statuses, $bad);

# the same records without garbage are allowed: the rounds below can tell
$t->org('bank', name => 'Bank', status => 'active', env => 'prod',
        scopes => ['person.basic']);
$t->user('alice', ips => ['10.0.0.0/8'], password => '{PLAIN}secret');
$t->allowed($t->get('/pw/', cert => 'alice', ip => '10.0.0.1',
                    user => 'alice:secret'), 'clean records');

for my $i (1 .. 60) {
    $r->del(qw(ir:user:alice ir:user:alice:ips ir:user:alice:fails
               ir:org:bank ir:org:bank:scopes));

    my %user = (org => field('bank'), status => field('active'),
                cert => field($fp), password => field('{PLAIN}secret'),
                unit => field('loans'), scopes => field('person.basic'));
    delete $user{$_} for grep { rand() < 0.05 } keys %user;
    $r->hset('ir:user:alice', $_, $user{$_}) for keys %user;

    $r->sadd('ir:user:alice:ips', field('10.0.0.0/8')) for 0 .. int(rand(3));

    my %org = (name => field('Bank'), status => field('active'),
               env => field('prod'), valid_from => field('2020-01-01'),
               valid_to => field('2099-12-31'), contract => field('C-1'));
    delete $org{$_} for grep { rand() < 0.05 } keys %org;
    $r->hset('ir:org:bank', $_, $org{$_}) for keys %org;

    $r->sadd('ir:org:bank:scopes', field('person.basic'))
        for 0 .. int(rand(2));

    # now and then a key of the wrong type
    if (rand() < 0.15) {
        $r->del('ir:user:alice:ips');
        $r->set('ir:user:alice:ips', junk());
    }
    if (rand() < 0.1) {
        $r->set('ir:user:alice:fails', junk());
    }

    for my $path ('/', '/pw/') {
        my $res = $t->get($path, cert => 'alice', ip => '10.0.0.1',
                          user => 'alice:secret');
        $statuses{ $res->{status} }++;

        unless ($res->{status} =~ /^(200|401|403)$/
                && ($res->{status} == 200
                    || $res->{body} =~ /^\{"error":"[a-z_]+"\}$/))
        {
            $bad++;
            diag("round $i $path: $res->{status} $res->{body}");
        }
    }

    # the cache holds the garbage for a second: a hit decides on it too
    $t->get('/', cert => 'alice', ip => '10.0.0.1') if $i % 10 == 0;
}

ok(!$bad, 'every request got a clear answer: '
   . join(', ', map { "$statuses{$_} x $_" } sort keys %statuses));

$t->stop_nginx;
$t->check_log;

done_testing;
