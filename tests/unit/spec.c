/* config.json parsing: every field into the model, every error message with
 * its JSON path, the strict JSON rules, the refused features, the default
 * config and the features document. */
#include "core/bitlist.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "spec/internal.h"
#include "spec/model.h"
#include "test.h"

#include <json-c/json.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

/* The tests write JSON with ' for ", to keep the literals readable. */
static char *dq(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static struct hutch_spec *parse_ok(const char *json)
{
	_cleanup_free_ char *t = dq(json);
	_cleanup_error_ struct hutch_error *err = NULL;
	struct hutch_spec *s = hutch_spec_parse(t, strlen(t), &err);

	if (s == NULL)
		fprintf(stderr, "unexpected error: %s\n", hutch_error_text(err));
	return s;
}

/* The error text of a parse that must fail (static buffer). */
static const char *parse_err(const char *json)
{
	static char msg[1024];
	_cleanup_free_ char *t = dq(json);
	_cleanup_error_ struct hutch_error *err = NULL;
	struct hutch_spec *s = hutch_spec_parse(t, strlen(t), &err);

	if (s != NULL) {
		hutch_spec_free(s);
		return "(parsed without error)";
	}
	if (err == NULL)
		return "(NULL without error)";
	snprintf(msg, sizeof(msg), "%s", hutch_error_text(err));
	return msg;
}

/* A minimal valid config with EXTRA spliced into the top object and LINUX
 * into linux, PROCESS into process. */
static const char *with(const char *process, const char *linux_, const char *extra)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{'ociVersion':'1.3.0','root':{'path':'rootfs'},"
		 "'process':{'cwd':'/','args':['sh']%s%s},"
		 "'linux':{%s}%s%s}",
		 process[0] ? "," : "", process, linux_, extra[0] ? "," : "", extra);
	return buf;
}

static const char *full_config =
    "{"
    "'ociVersion':'1.3.0',"
    "'root':{'path':'rootfs','readonly':true},"
    "'hostname':'box','domainname':'example.org',"
    "'mounts':["
    " {'destination':'/proc','type':'proc','source':'proc'},"
    " {'destination':'/data','type':'none','source':'/srv/data','options':['rbind','ro']},"
    " {'destination':'tmp','type':'tmpfs'}"
    "],"
    "'process':{"
    " 'terminal':true,'consoleSize':{'height':24,'width':80},"
    " 'user':{'uid':1000,'gid':100,'umask':18,'additionalGids':[5,6,7]},"
    " 'args':['/bin/app','--flag'],'env':['A=1','B=2'],'cwd':'/work',"
    " 'capabilities':{'bounding':['CAP_CHOWN','CAP_SYS_ADMIN','CAP_CHECKPOINT_RESTORE'],"
    "   'effective':['CAP_KILL'],'inheritable':[],'permitted':['CAP_KILL','CAP_NET_RAW'],"
    "   'ambient':['CAP_NET_BIND_SERVICE']},"
    " 'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
    "            {'type':'RLIMIT_CORE','soft':18446744073709551615,'hard':18446744073709551615}],"
    " 'noNewPrivileges':true,'apparmorProfile':'aa','selinuxLabel':'sl','oomScoreAdj':-500"
    "},"
    "'hooks':{"
    " 'prestart':[{'path':'/bin/pre','args':['pre','x'],'env':['E=1'],'timeout':5}],"
    " 'createRuntime':[{'path':'/bin/cr'}],'createContainer':[{'path':'/bin/cc'}],"
    " 'startContainer':[{'path':'/bin/sc'}],'poststart':[{'path':'/bin/ps'}],"
    " 'poststop':[{'path':'/bin/pst1'},{'path':'/bin/pst2'}]"
    "},"
    "'annotations':{'org.example.a':'1','b':'two'},"
    "'linux':{"
    " 'namespaces':[{'type':'pid'},{'type':'network','path':'/run/netns/x'},{'type':'mount'},"
    "   {'type':'ipc'},{'type':'uts'},{'type':'user'},{'type':'cgroup'},{'type':'time'}],"
    " 'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
    " 'gidMappings':[{'containerID':0,'hostID':200000,'size':1000},"
    "                {'containerID':1000,'hostID':300000,'size':1}],"
    " 'timeOffsets':{'monotonic':{'secs':-3600,'nanosecs':5},'boottime':{'secs':86400}},"
    " 'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':438,"
    "   'uid':0,'gid':0},{'path':'/dev/fifo','type':'p'}],"
    " 'cgroupsPath':'/hutch/test',"
    " 'resources':{"
    "  'devices':[{'allow':false,'access':'rwm'},"
    "             {'allow':true,'type':'c','major':1,'minor':3,'access':'mr'},"
    "             {'allow':true,'type':'b','major':8,'access':'w'}],"
    "  'memory':{'limit':536870912,'reservation':268435456,'swap':-1,'kernel':1,'kernelTCP':2,"
    "    'swappiness':60,'disableOOMKiller':true,'useHierarchy':false,'checkBeforeUpdate':true},"
    "  'cpu':{'shares':1024,'quota':50000,'burst':1000,'period':100000,"
    "    'realtimeRuntime':950000,'realtimePeriod':1000000,'cpus':'0-1','mems':'0','idle':1},"
    "  'pids':{'limit':-1},"
    "  'blockIO':{'weight':500,'leafWeight':300,"
    "    "
    "'weightDevice':[{'major':8,'minor':0,'weight':600},{'major':8,'minor':16,'leafWeight':10}],"
    "    'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
    "    'throttleWriteBpsDevice':[{'major':8,'minor':0,'rate':2097152}],"
    "    'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':100}],"
    "    'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':200},{'major':8,'minor':1,'rate':"
    "300}]},"
    "  'hugepageLimits':[{'pageSize':'2MB','limit':209715200},{'pageSize':'1GB','limit':0}],"
    "  'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
    "  'unified':{'memory.high':'1G','io.weight':'default 100'}"
    " },"
    " 'rootfsPropagation':'rslave',"
    " 'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
    "   'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],'flags':['SECCOMP_FILTER_FLAG_LOG'],"
    "   'listenerPath':'','listenerMetadata':'meta',"
    "   'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
    "     {'names':['kill'],'action':'SCMP_ACT_ERRNO','errnoRet':13,"
    "      'args':[{'index':1,'value':9,'op':'SCMP_CMP_EQ'},"
    "              {'index':0,'value':255,'valueTwo':7,'op':'SCMP_CMP_MASKED_EQ'}]},"
    "     {'names':['ptrace'],'action':'SCMP_ACT_KILL_PROCESS'}]},"
    " 'sysctl':{'net.ipv4.ip_forward':'1'},"
    " 'maskedPaths':['/proc/kcore','/proc/keys'],'readonlyPaths':['/proc/sys'],"
    " 'mountLabel':'system_u:object_r:container_file_t:s0'"
    "},"
    "'windows':{'layerFolders':['C:\\\\x']},'solaris':{},'vm':{'kernel':{'path':'/k'}},"
    "'zos':{}"
    "}";

static const char *kv_get(const struct hutch_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

TEST(full_top_and_mounts)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(full_config);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(s->oci_version, "1.3.0");
	CHECK_STR(s->root_path, "rootfs");
	CHECK(s->root_readonly);
	CHECK_STR(s->hostname, "box");
	CHECK_STR(s->domainname, "example.org");
	CHECK_INT(s->n_mounts, 3);
	CHECK_STR(s->mounts[0].destination, "/proc");
	CHECK_STR(s->mounts[0].type, "proc");
	CHECK_STR(s->mounts[0].source, "proc");
	CHECK(s->mounts[0].options == NULL);
	CHECK_STR(s->mounts[1].source, "/srv/data");
	CHECK_STR(s->mounts[1].options[0], "rbind");
	CHECK_STR(s->mounts[1].options[1], "ro");
	CHECK(s->mounts[1].options[2] == NULL);
	/* Relative destinations are relative to "/" (config.md). */
	CHECK_STR(s->mounts[2].destination, "/tmp");
	CHECK(s->mounts[2].source == NULL);
	CHECK_INT(s->n_annotations, 2);
	CHECK_STR(kv_get(s->annotations, s->n_annotations, "org.example.a"), "1");
	CHECK_STR(kv_get(s->annotations, s->n_annotations, "b"), "two");
	CHECK(s->has_linux);
}

TEST(full_process)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(full_config);
	struct hutch_process *p;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	p = &s->process;
	CHECK(s->has_process);
	CHECK(p->terminal);
	CHECK(p->has_console_size);
	CHECK_INT(p->console_height, 24);
	CHECK_INT(p->console_width, 80);
	CHECK_INT(p->user.uid, 1000);
	CHECK_INT(p->user.gid, 100);
	CHECK(p->user.has_umask);
	CHECK_INT(p->user.umask, 18);
	CHECK_INT(p->user.n_additional_gids, 3);
	CHECK_INT(p->user.additional_gids[2], 7);
	CHECK_STR(p->args[0], "/bin/app");
	CHECK_STR(p->args[1], "--flag");
	CHECK(p->args[2] == NULL);
	CHECK_STR(p->env[1], "B=2");
	CHECK_STR(p->cwd, "/work");
	CHECK(p->has_capabilities);
	CHECK(p->capabilities.has_bounding);
	CHECK_INT(p->capabilities.bounding, (1ull << 0) | (1ull << 21) | (1ull << 40));
	CHECK_INT(p->capabilities.effective, 1ull << 5);
	CHECK(p->capabilities.has_inheritable);
	CHECK_INT(p->capabilities.inheritable, 0);
	CHECK_INT(p->capabilities.permitted, (1ull << 5) | (1ull << 13));
	CHECK_INT(p->capabilities.ambient, 1ull << 10);
	CHECK_INT(p->n_rlimits, 2);
	CHECK_INT(p->rlimits[0].resource, RLIMIT_NOFILE);
	CHECK_INT(p->rlimits[0].soft, 1024);
	CHECK_INT(p->rlimits[0].hard, 4096);
	CHECK_INT(p->rlimits[1].resource, RLIMIT_CORE);
	CHECK(p->rlimits[1].soft == UINT64_MAX);
	CHECK(p->no_new_privileges);
	CHECK_STR(p->apparmor_profile, "aa");
	CHECK_STR(p->selinux_label, "sl");
	CHECK(p->has_oom_score_adj);
	CHECK_INT(p->oom_score_adj, -500);
	CHECK(!p->has_scheduler);
	CHECK(!p->has_io_priority);
}

TEST(full_hooks)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(full_config);
	struct hutch_hook *h;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(s->hooks[HUTCH_HOOK_PRESTART].n, 1);
	h = &s->hooks[HUTCH_HOOK_PRESTART].hooks[0];
	CHECK_STR(h->path, "/bin/pre");
	CHECK_STR(h->args[1], "x");
	CHECK_STR(h->env[0], "E=1");
	CHECK(h->has_timeout);
	CHECK_INT(h->timeout, 5);
	CHECK_STR(s->hooks[HUTCH_HOOK_CREATE_RUNTIME].hooks[0].path, "/bin/cr");
	CHECK(!s->hooks[HUTCH_HOOK_CREATE_RUNTIME].hooks[0].has_timeout);
	CHECK_STR(s->hooks[HUTCH_HOOK_CREATE_CONTAINER].hooks[0].path, "/bin/cc");
	CHECK_STR(s->hooks[HUTCH_HOOK_START_CONTAINER].hooks[0].path, "/bin/sc");
	CHECK_STR(s->hooks[HUTCH_HOOK_POSTSTART].hooks[0].path, "/bin/ps");
	CHECK_INT(s->hooks[HUTCH_HOOK_POSTSTOP].n, 2);
	CHECK_STR(s->hooks[HUTCH_HOOK_POSTSTOP].hooks[1].path, "/bin/pst2");
}

TEST(full_linux)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(full_config);
	struct hutch_linux *l;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	l = &s->linux_;
	for (int i = 0; i < HUTCH_NS__COUNT; i++)
		CHECK(l->namespaces[i].present);
	CHECK_STR(l->namespaces[HUTCH_NS_NETWORK].path, "/run/netns/x");
	CHECK(l->namespaces[HUTCH_NS_PID].path == NULL);
	CHECK_INT(l->n_uid_mappings, 1);
	CHECK_INT(l->uid_mappings[0].host_id, 100000);
	CHECK_INT(l->uid_mappings[0].size, 65536);
	CHECK_INT(l->n_gid_mappings, 2);
	CHECK_INT(l->gid_mappings[1].container_id, 1000);
	CHECK_INT(l->gid_mappings[1].host_id, 300000);
	CHECK(l->time_monotonic.present);
	CHECK_INT(l->time_monotonic.secs, -3600);
	CHECK_INT(l->time_monotonic.nanosecs, 5);
	CHECK(l->time_boottime.present);
	CHECK_INT(l->time_boottime.secs, 86400);
	CHECK_INT(l->n_devices, 2);
	CHECK_STR(l->devices[0].path, "/dev/fuse");
	CHECK_INT(l->devices[0].type, 'c');
	CHECK_INT(l->devices[0].major, 10);
	CHECK_INT(l->devices[0].minor, 229);
	CHECK(l->devices[0].has_file_mode);
	CHECK_INT(l->devices[0].file_mode, 0666);
	CHECK(l->devices[0].has_uid && l->devices[0].has_gid);
	CHECK_INT(l->devices[1].type, 'p');
	CHECK(!l->devices[1].has_file_mode);
	CHECK_STR(l->cgroups_path, "/hutch/test");
	CHECK_INT(l->rootfs_propagation, HUTCH_PROPAGATION_RSLAVE);
	CHECK_INT(l->n_sysctl, 1);
	CHECK_STR(l->sysctl[0].key, "net.ipv4.ip_forward");
	CHECK_STR(l->sysctl[0].value, "1");
	CHECK_STR(l->masked_paths[1], "/proc/keys");
	CHECK(l->masked_paths[2] == NULL);
	CHECK_STR(l->readonly_paths[0], "/proc/sys");
	CHECK_STR(l->mount_label, "system_u:object_r:container_file_t:s0");
	CHECK(!l->has_intel_rdt && !l->has_memory_policy && !l->has_personality);
	CHECK_INT(l->n_net_devices, 0);
}

TEST(full_resources)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(full_config);
	struct hutch_resources *r;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(s->linux_.has_resources);
	r = &s->linux_.resources;
	CHECK_INT(r->n_devices, 3);
	CHECK(!r->devices[0].allow);
	CHECK_INT(r->devices[0].type, 'a');
	CHECK_INT(r->devices[0].major, -1);
	CHECK_INT(r->devices[0].minor, -1);
	CHECK_STR(r->devices[0].access, "rwm");
	CHECK(r->devices[1].allow);
	CHECK_INT(r->devices[1].type, 'c');
	CHECK_INT(r->devices[1].major, 1);
	CHECK_INT(r->devices[1].minor, 3);
	CHECK_STR(r->devices[1].access, "rm");
	CHECK_INT(r->devices[2].type, 'b');
	CHECK_INT(r->devices[2].minor, -1);
	CHECK_STR(r->devices[2].access, "w");

	CHECK(r->has_memory);
	CHECK(r->memory.has_limit);
	CHECK_INT(r->memory.limit, 536870912);
	CHECK_INT(r->memory.reservation, 268435456);
	CHECK(r->memory.has_swap);
	CHECK_INT(r->memory.swap, -1);
	CHECK_INT(r->memory.kernel, 1);
	CHECK_INT(r->memory.kernel_tcp, 2);
	CHECK(r->memory.has_swappiness);
	CHECK_INT(r->memory.swappiness, 60);
	CHECK(r->memory.has_disable_oom_killer && r->memory.disable_oom_killer);
	CHECK(r->memory.has_use_hierarchy && !r->memory.use_hierarchy);
	CHECK(r->memory.has_check_before_update && r->memory.check_before_update);

	CHECK(r->has_cpu);
	CHECK_INT(r->cpu.shares, 1024);
	CHECK_INT(r->cpu.quota, 50000);
	CHECK_INT(r->cpu.burst, 1000);
	CHECK_INT(r->cpu.period, 100000);
	CHECK_INT(r->cpu.realtime_runtime, 950000);
	CHECK_INT(r->cpu.realtime_period, 1000000);
	CHECK(r->cpu.has_idle);
	CHECK_INT(r->cpu.idle, 1);
	CHECK_STR(r->cpu.cpus, "0-1");
	CHECK_STR(r->cpu.mems, "0");

	CHECK(r->has_pids_limit);
	CHECK_INT(r->pids_limit, -1);

	CHECK(r->has_blockio);
	CHECK(r->blockio.has_weight);
	CHECK_INT(r->blockio.weight, 500);
	CHECK_INT(r->blockio.leaf_weight, 300);
	CHECK_INT(r->blockio.n_weight_device, 2);
	CHECK(r->blockio.weight_device[0].has_weight);
	CHECK(!r->blockio.weight_device[0].has_leaf_weight);
	CHECK_INT(r->blockio.weight_device[0].weight, 600);
	CHECK_INT(r->blockio.weight_device[1].minor, 16);
	CHECK_INT(r->blockio.weight_device[1].leaf_weight, 10);
	CHECK_INT(r->blockio.n_throttle[HUTCH_THROTTLE_READ_BPS], 1);
	CHECK_INT(r->blockio.throttle[HUTCH_THROTTLE_READ_BPS][0].rate, 1048576);
	CHECK_INT(r->blockio.throttle[HUTCH_THROTTLE_WRITE_BPS][0].rate, 2097152);
	CHECK_INT(r->blockio.throttle[HUTCH_THROTTLE_READ_IOPS][0].rate, 100);
	CHECK_INT(r->blockio.n_throttle[HUTCH_THROTTLE_WRITE_IOPS], 2);
	CHECK_INT(r->blockio.throttle[HUTCH_THROTTLE_WRITE_IOPS][1].minor, 1);
	CHECK_INT(r->blockio.throttle[HUTCH_THROTTLE_WRITE_IOPS][1].rate, 300);

	CHECK_INT(r->n_hugepage_limits, 2);
	CHECK_STR(r->hugepage_limits[0].page_size, "2MB");
	CHECK_INT(r->hugepage_limits[0].limit, 209715200);
	CHECK_STR(r->hugepage_limits[1].page_size, "1GB");

	CHECK(r->has_network);
	CHECK(r->has_class_id);
	CHECK_INT(r->class_id, 1048577);
	CHECK_INT(r->n_net_priorities, 1);
	CHECK_STR(r->net_priorities[0].name, "eth0");
	CHECK_INT(r->net_priorities[0].priority, 500);
	CHECK_INT(r->n_rdma, 0);
	CHECK_INT(r->n_unified, 2);
	CHECK_STR(kv_get(r->unified, r->n_unified, "io.weight"), "default 100");
}

TEST(full_seccomp)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(full_config);
	struct hutch_seccomp *sc;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(s->linux_.has_seccomp);
	sc = &s->linux_.seccomp;
	CHECK_INT(sc->default_action, SCMP_ACT_ERRNO(0));
	CHECK(sc->has_default_errno_ret);
	CHECK_INT(sc->default_errno_ret, 1);
	CHECK_STR(sc->architectures[0], "SCMP_ARCH_X86_64");
	CHECK_STR(sc->architectures[1], "SCMP_ARCH_X86");
	CHECK_STR(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG");
	CHECK_STR(sc->listener_path, "");
	CHECK_STR(sc->listener_metadata, "meta");
	CHECK_INT(sc->n_syscalls, 3);
	CHECK_STR(sc->syscalls[0].names[1], "write");
	CHECK_INT(sc->syscalls[0].action, SCMP_ACT_ALLOW);
	CHECK(!sc->syscalls[0].has_errno_ret);
	CHECK_INT(sc->syscalls[1].action, SCMP_ACT_ERRNO(0));
	CHECK(sc->syscalls[1].has_errno_ret);
	CHECK_INT(sc->syscalls[1].errno_ret, 13);
	CHECK_INT(sc->syscalls[1].n_args, 2);
	CHECK_INT(sc->syscalls[1].args[0].index, 1);
	CHECK_INT(sc->syscalls[1].args[0].value, 9);
	CHECK_INT(sc->syscalls[1].args[0].op, SCMP_CMP_EQ);
	CHECK_INT(sc->syscalls[1].args[1].value_two, 7);
	CHECK_INT(sc->syscalls[1].args[1].op, SCMP_CMP_MASKED_EQ);
	CHECK_INT(sc->syscalls[2].action, SCMP_ACT_KILL_PROCESS);
}

TEST(seccomp_names)
{
	static const struct {
		const char *name;
		uint32_t value;
	} actions[] = {
	    {"SCMP_ACT_KILL", SCMP_ACT_KILL}, {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
	    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP}, {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
	    {"SCMP_ACT_LOG", SCMP_ACT_LOG},   {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
	};
	static const struct {
		const char *name;
		int value;
	} ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
		   {"SCMP_CMP_LT", SCMP_CMP_LT},
		   {"SCMP_CMP_LE", SCMP_CMP_LE},
		   {"SCMP_CMP_GE", SCMP_CMP_GE},
		   {"SCMP_CMP_GT", SCMP_CMP_GT}};
	char extra[512];

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		snprintf(extra, sizeof(extra), "'seccomp':{'defaultAction':'%s'}", actions[i].name);
		_cleanup_spec_ struct hutch_spec *s = parse_ok(with("", extra, ""));
		CHECK(s != NULL && s->linux_.seccomp.default_action == actions[i].value);
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		snprintf(extra, sizeof(extra),
			 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['x'],"
			 "'action':'SCMP_ACT_LOG','args':[{'index':5,'value':1,'op':'%s'}]}]}",
			 ops[i].name);
		_cleanup_spec_ struct hutch_spec *s = parse_ok(with("", extra, ""));
		CHECK(s != NULL && s->linux_.seccomp.syscalls[0].args[0].op == ops[i].value);
	}
	CHECK_STR(parse_err(with("", "'seccomp':{'defaultAction':'SCMP_ACT_BOOM'}", "")),
		  "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_BOOM\"");
	CHECK_STR(parse_err(with("", "'seccomp':{}", "")), "linux.seccomp.defaultAction: required");
	CHECK_STR(
	    parse_err(with("",
			   "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':["
			   "'x'],'action':'SCMP_ACT_LOG','args':[{'index':0,'value':1,'op':"
			   "'SCMP_CMP_XX'}]}]}",
			   "")),
	    "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XX\"");
	CHECK_CONTAINS(parse_err(with("",
				      "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{"
				      "'names':['x'],'action':'SCMP_ACT_LOG','args':[{'index':6,"
				      "'value':1,'op':'SCMP_CMP_EQ'}]}]}",
				      "")),
		       "linux.seccomp.syscalls[0].args[0].index: 6 is out of range");
	CHECK_STR(parse_err(with("",
				 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','architectures':["
				 "'SCMP_ARCH_X86_64','SCMP_ARCH_VAX']}",
				 "")),
		  "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
	CHECK_STR(parse_err(with("",
				 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_"
				 "FILTER_FLAG_NOPE']}",
				 "")),
		  "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_NOPE\"");
	CHECK_STR(parse_err(with("",
				 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':"
				 "[],'action':'SCMP_ACT_LOG'}]}",
				 "")),
		  "linux.seccomp.syscalls[0].names: must not be empty");
	CHECK_STR(parse_err(with("",
				 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':"
				 "['x']}]}",
				 "")),
		  "linux.seccomp.syscalls[0].action: required");
}

TEST(minimal_and_optional)
{
	_cleanup_spec_ struct hutch_spec *s =
	    parse_ok("{'ociVersion':'1.0.0','root':{'path':'/abs/rootfs'}}");

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(!s->has_process);
	CHECK(!s->has_linux);
	CHECK(!s->root_readonly);
	CHECK_INT(s->n_mounts, 0);
	CHECK(s->hostname == NULL);
	CHECK_INT(s->linux_.rootfs_propagation, HUTCH_PROPAGATION_UNSET);
}

TEST(null_is_absent)
{
	_cleanup_spec_ struct hutch_spec *s =
	    parse_ok("{'ociVersion':'1.0.2-dev','root':{'path':'r'},'hostname':null,"
		     "'mounts':null,'process':{'cwd':'/','args':['a'],'env':null,"
		     "'oomScoreAdj':null}}");

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(s->hostname == NULL);
	CHECK(s->process.env == NULL);
	CHECK(!s->process.has_oom_score_adj);
}

TEST(versions)
{
	const char *ok[] = {"1.0.0", "1.0.2-dev", "1.3.0", "1.1.0-rc.1", "1.3.0+dev", "1.9.12"};
	char buf[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(buf, sizeof(buf), "{'ociVersion':'%s','root':{'path':'r'}}", ok[i]);
		_cleanup_spec_ struct hutch_spec *s = parse_ok(buf);
		CHECK(s != NULL);
	}
	CHECK_STR(parse_err("{'ociVersion':'2.0.0','root':{'path':'r'}}"),
		  "ociVersion: unsupported version \"2.0.0\" (hutch supports 1.0.0 to 1.3.0)");
	CHECK_STR(parse_err("{'ociVersion':'0.6.0','root':{'path':'r'}}"),
		  "ociVersion: unsupported version \"0.6.0\" (hutch supports 1.0.0 to 1.3.0)");
	CHECK_STR(parse_err("{'ociVersion':'1.0','root':{'path':'r'}}"),
		  "ociVersion: invalid version \"1.0\"");
	CHECK_STR(parse_err("{'ociVersion':'v1.0.0','root':{'path':'r'}}"),
		  "ociVersion: invalid version \"v1.0.0\"");
	CHECK_STR(parse_err("{'root':{'path':'r'}}"), "ociVersion: required");
	CHECK_STR(parse_err("{'ociVersion':1,'root':{'path':'r'}}"),
		  "ociVersion: expected a string");
}

TEST(root_required)
{
	CHECK_STR(parse_err("{'ociVersion':'1.0.0'}"), "root.path: required");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{}}"), "root.path: required");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':''}}"),
		  "root.path: must not be empty");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':'rootfs'}"), "root: expected an object");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':'r','readonly':'yes'}}"),
		  "root.readonly: expected a boolean");
}

TEST(type_errors)
{
	CHECK_STR(parse_err(with("", "'resources':{'memory':{'limit':'1G'}}", "")),
		  "linux.resources.memory.limit: expected an integer");
	CHECK_STR(parse_err(with("", "'resources':{'memory':{'limit':1.5}}", "")),
		  "linux.resources.memory.limit: expected an integer");
	CHECK_STR(parse_err(with("", "'resources':{'memory':{'limit':1e9}}", "")),
		  "linux.resources.memory.limit: expected an integer");
	CHECK_STR(parse_err(with("", "'resources':{'memory':{'limit':-2}}", "")),
		  "linux.resources.memory.limit: -2 is out of range (-1 to 9223372036854775807)");
	CHECK_STR(parse_err(with("", "'resources':{'memory':{'swappiness':101}}", "")),
		  "linux.resources.memory.swappiness: 101 is out of range (0 to 100)");
	CHECK_STR(parse_err(with("", "'resources':{'cpu':{'shares':-1}}", "")),
		  "linux.resources.cpu.shares: expected a non-negative integer, got -1");
	CHECK_STR(parse_err(with("", "'resources':{'blockIO':{'weight':70000}}", "")),
		  "linux.resources.blockIO.weight: 70000 is out of range (0 to 65535)");
	CHECK_STR(parse_err(with("", "'resources':{'pids':{'limit':true}}", "")),
		  "linux.resources.pids.limit: expected an integer");
	CHECK_STR(parse_err(with("", "'resources':{'cpu':{'cpus':5}}", "")),
		  "linux.resources.cpu.cpus: expected a string");
	CHECK_STR(parse_err(with("", "'resources':[]", "")), "linux.resources: expected an object");
	CHECK_STR(parse_err(with("", "'namespaces':{}", "")),
		  "linux.namespaces: expected an array");
	CHECK_STR(parse_err(with("'terminal':1", "", "")), "process.terminal: expected a boolean");
	CHECK_STR(parse_err(with("'env':['A=1',2]", "", "")), "process.env[1]: expected a string");
	CHECK_STR(parse_err(with("'user':{'uid':-1}", "", "")),
		  "process.user.uid: expected a non-negative integer, got -1");
	CHECK_STR(parse_err(with("'user':{'uid':4294967296}", "", "")),
		  "process.user.uid: 4294967296 is out of range (0 to 4294967295)");
	CHECK_STR(parse_err(with("'user':{'additionalGids':[1,'x']}", "", "")),
		  "process.user.additionalGids[1]: expected an integer");
	CHECK_STR(parse_err(with("'oomScoreAdj':1001", "", "")),
		  "process.oomScoreAdj: 1001 is out of range (-1000 to 1000)");
	CHECK_STR(parse_err(with("", "", "'mounts':[{'destination':'/a'},3]")),
		  "mounts[1]: expected an object");
	CHECK_STR(parse_err(with("", "", "'annotations':{'a':1}")),
		  "annotations[\"a\"]: expected a string");
	CHECK_STR(parse_err(with("", "'sysctl':{'kernel.x':true}", "")),
		  "linux.sysctl[\"kernel.x\"]: expected a string");
	CHECK_STR(parse_err(with("", "'uidMappings':[{'containerID':0,'hostID':1}]", "")),
		  "linux.uidMappings[0].size: required");
	CHECK_STR(parse_err(with("", "'uidMappings':[{'containerID':0,'hostID':1,'size':0}]", "")),
		  "linux.uidMappings[0].size: must be greater than 0");
}

TEST(documented_messages)
{
	CHECK_STR(parse_err(with("'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN','CAP_FOO']}",
				 "", "")),
		  "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"");
	CHECK_STR(parse_err(with("'capabilities':{'ambient':['cap_kill']}", "", "")),
		  "process.capabilities.ambient[0]: unknown capability \"cap_kill\"");
	CHECK_STR(parse_err(with("", "'namespaces':[{'type':'pid'},{'type':'foo'}]", "")),
		  "linux.namespaces[1].type: unknown namespace type \"foo\"");
	CHECK_STR(
	    parse_err(with("", "'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}]", "")),
	    "linux.namespaces: duplicate namespace \"pid\"");
	CHECK_STR(parse_err(with("", "'namespaces':[{'type':'net','path':'x'}]", "")),
		  "linux.namespaces[0].type: unknown namespace type \"net\"");
	CHECK_STR(parse_err(with("", "'namespaces':[{'type':'network','path':'run/x'}]", "")),
		  "linux.namespaces[0].path: must be an absolute path");
	CHECK_STR(parse_err(with("", "'namespaces':[{}]", "")),
		  "linux.namespaces[0].type: required");
	CHECK_STR(parse_err(with("'rlimits':[{'type':'RLIMIT_X','soft':1,'hard':1}]", "", "")),
		  "process.rlimits[0].type: unknown rlimit \"RLIMIT_X\"");
	CHECK_STR(
	    parse_err(with("'rlimits':[{'type':'RLIMIT_NOFILE','soft':10,'hard':5}]", "", "")),
	    "process.rlimits[0]: soft limit 10 is above hard limit 5");
	CHECK_STR(parse_err(with("'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},"
				 "{'type':'RLIMIT_NOFILE','soft':1,'hard':1}]",
				 "", "")),
		  "process.rlimits[1]: duplicate rlimit type");
	CHECK_STR(parse_err(with("'rlimits':[{'type':'RLIMIT_NOFILE','hard':1}]", "", "")),
		  "process.rlimits[0].soft: required");
	CHECK_STR(parse_err(with("", "",
				 "'mounts':[{'destination':'/a'},{'destination':'/b'},"
				 "{'destination':'/c'},{'destination':''}]")),
		  "mounts[3].destination: must not be empty");
	CHECK_STR(parse_err(with("", "", "'mounts':[{'type':'tmpfs'}]")),
		  "mounts[0].destination: required");
	CHECK_STR(parse_err(with("", "", "'mounts':[{'destination':'/a','options':'ro'}]")),
		  "mounts[0].options: expected an array");
}

TEST(process_required)
{
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'},'process':{'args':['a']}}"),
		  "process.cwd: required");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'},'process':{'cwd':'work',"
			    "'args':['a']}}"),
		  "process.cwd: must be an absolute path");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'},'process':{'cwd':'/'}}"),
		  "process.args: required");
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'},'process':{'cwd':'/',"
			    "'args':[]}}"),
		  "process.args: must not be empty");
	CHECK_STR(parse_err(with("'consoleSize':{'height':1}", "", "")),
		  "process.consoleSize.width: required");
	CHECK_STR(parse_err(with("'user':{'umask':4096}", "", "")),
		  "process.user.umask: 010000 is not a file mode");
}

TEST(hooks)
{
	CHECK_STR(parse_err(with("", "", "'hooks':{'prestart':[{'path':'hook'}]}")),
		  "hooks.prestart[0].path: must be an absolute path");
	CHECK_STR(parse_err(with("", "", "'hooks':{'poststop':[{'path':'/h'},{'args':['x']}]}")),
		  "hooks.poststop[1].path: required");
	CHECK_STR(parse_err(with("", "", "'hooks':{'createRuntime':[{'path':'/h','timeout':0}]}")),
		  "hooks.createRuntime[0].timeout: must be greater than zero");
	CHECK_STR(parse_err(with("", "", "'hooks':{'poststart':[{'path':'/h','timeout':-5}]}")),
		  "hooks.poststart[0].timeout: must be greater than zero");
	CHECK_STR(parse_err(with("", "", "'hooks':{'prestart':{}}")),
		  "hooks.prestart: expected an array");
}

TEST(linux_values)
{
	CHECK_STR(parse_err(with("", "'rootfsPropagation':'bogus'", "")),
		  "linux.rootfsPropagation: unknown propagation \"bogus\"");
	static const struct {
		const char *name;
		enum hutch_propagation v;
	} props[] = {
	    {"private", HUTCH_PROPAGATION_PRIVATE},
	    {"shared", HUTCH_PROPAGATION_SHARED},
	    {"slave", HUTCH_PROPAGATION_SLAVE},
	    {"unbindable", HUTCH_PROPAGATION_UNBINDABLE},
	    {"rprivate", HUTCH_PROPAGATION_RPRIVATE},
	    {"rshared", HUTCH_PROPAGATION_RSHARED},
	    {"runbindable", HUTCH_PROPAGATION_RUNBINDABLE},
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		snprintf(buf, sizeof(buf), "'rootfsPropagation':'%s'", props[i].name);
		_cleanup_spec_ struct hutch_spec *s = parse_ok(with("", buf, ""));
		CHECK(s != NULL && s->linux_.rootfs_propagation == props[i].v);
	}
	CHECK_STR(parse_err(with("", "'timeOffsets':{'realtime':{'secs':1}}", "")),
		  "linux.timeOffsets[\"realtime\"]: unknown clock (expected \"monotonic\" or "
		  "\"boottime\")");
	CHECK_STR(parse_err(with("", "'timeOffsets':{'boottime':{'nanosecs':1000000000}}", "")),
		  "linux.timeOffsets[\"boottime\"].nanosecs: must be below 1000000000");
	CHECK_STR(
	    parse_err(with("", "'devices':[{'path':'/dev/x','type':'x','major':1,'minor':1}]", "")),
	    "linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)");
	CHECK_STR(parse_err(with("", "'devices':[{'path':'/dev/x','type':'c','minor':1}]", "")),
		  "linux.devices[0].major: required");
	CHECK_STR(
	    parse_err(with("", "'devices':[{'path':'dev/x','type':'c','major':1,'minor':1}]", "")),
	    "linux.devices[0].path: must be an absolute path");
	CHECK_STR(
	    parse_err(with("", "'resources':{'devices':[{'allow':true,'access':'rwx'}]}", "")),
	    "linux.resources.devices[0].access: invalid access \"rwx\" (expected letters of "
	    "rwm)");
	CHECK_STR(
	    parse_err(with("", "'resources':{'devices':[{'allow':true,'type':'p'}]}", "")),
	    "linux.resources.devices[0].type: unknown device type \"p\" (expected a, c or b)");
	CHECK_STR(parse_err(with("", "'resources':{'devices':[{'access':'r'}]}", "")),
		  "linux.resources.devices[0].allow: required");
	CHECK_STR(
	    parse_err(with("", "'resources':{'devices':[{'allow':true,'major':-2}]}", "")),
	    "linux.resources.devices[0].major: -2 is out of range (-1 to 9223372036854775807)");
	CHECK_STR(parse_err(with("", "'maskedPaths':['/proc/kcore','proc/keys']", "")),
		  "linux.maskedPaths[1]: must be an absolute path");
	CHECK_STR(parse_err(with("", "'resources':{'unified':{'../x':'1'}}", "")),
		  "linux.resources.unified[\"../x\"]: not a cgroup interface file name");
	CHECK_STR(parse_err(with("",
				 "'resources':{'hugepageLimits':[{'pageSize':'../2MB','limit':"
				 "1}]}",
				 "")),
		  "linux.resources.hugepageLimits[0].pageSize: invalid page size \"../2MB\"");
	CHECK_STR(parse_err(with("",
				 "'resources':{'blockIO':{'throttleReadBpsDevice':[{'major':8,"
				 "'minor':0}]}}",
				 "")),
		  "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required");

	/* access is kept in rwm order without repeats; absent means all. */
	{
		_cleanup_spec_ struct hutch_spec *s =
		    parse_ok(with("",
				  "'resources':{'devices':[{'allow':true,'access':'mmwr'},{'allow':"
				  "true,'type':'','major':-1}]}",
				  ""));
		CHECK(s != NULL);
		if (s != NULL) {
			CHECK_STR(s->linux_.resources.devices[0].access, "rwm");
			CHECK_STR(s->linux_.resources.devices[1].access, "rwm");
			CHECK_INT(s->linux_.resources.devices[1].type, 'a');
		}
	}
}

TEST(unknown_ignored)
{
	_cleanup_spec_ struct hutch_spec *s = parse_ok(
	    with("'futureField':{'x':[1,2,3]},'user':{'uid':1,'newThing':true}",
		 "'somethingNew':42,'resources':{'memory':{'limit':1,'exotic':'x'},'gpu':{'n':1}}",
		 "'extension':{'deep':{'deeper':[{}]}},'freebsd':{'jail':{}}"));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(s->process.user.uid, 1);
	CHECK_INT(s->linux_.resources.memory.limit, 1);
}

TEST(refused)
{
	/* implemented (or checked against the host at create): parsed */
	CHECK_STR(parse_err(with("", "'intelRdt':{'closID':'x'}", "")), "(parsed without error)");
	CHECK_STR(parse_err(with("", "'memoryPolicy':{'mode':'MPOL_BIND','nodes':'0'}", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("", "'netDevices':{'eth1':{'name':'ctr0'}}", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("", "'personality':{'domain':'LINUX32'}", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("'scheduler':{'policy':'SCHED_BATCH','nice':5}", "", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':4}", "", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("'execCPUAffinity':{'initial':'0','final':'0-3'}", "", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("", "'resources':{'rdma':{'mlx5_1':{'hcaHandles':3}}}", "")),
		  "(parsed without error)");
	CHECK_STR(parse_err(with("",
				 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/run/"
				 "l.sock'}",
				 "")),
		  "(parsed without error)");
	/* idmapped mounts are supported (linux/idmap.c) */
	CHECK_STR(parse_err(with("", "",
				 "'mounts':[{'destination':'/a'},{'destination':'/m','uidMappings':"
				 "[{'containerID':0,'hostID':1000,'size':1}]}]")),
		  "(parsed without error)");
	/* SCMP_ACT_NOTIFY: checked when the filter is compiled (listenerPath
	 * required, not the default action; tests/unit/security.c) */
	CHECK_STR(parse_err(with("",
				 "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':"
				 "['a'],'action':'SCMP_ACT_LOG'},{'names':['b'],'action':'SCMP_ACT_"
				 "NOTIFY'}]}",
				 "")),
		  "(parsed without error)");
	/* Empty forms are not a request for the feature. */
	{
		_cleanup_spec_ struct hutch_spec *s = parse_ok(
		    with("",
			 "'netDevices':{},'resources':{'rdma':{}},'seccomp':{'defaultAction':"
			 "'SCMP_ACT_ALLOW','listenerPath':''}",
			 ""));
		CHECK(s != NULL);
	}
	/* Refused fields are still validated first. */
	CHECK_STR(parse_err(with("'scheduler':{'policy':'SCHED_NOPE'}", "", "")),
		  "process.scheduler.policy: unknown scheduler policy \"SCHED_NOPE\"");
	CHECK_STR(parse_err(with("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}", "", "")),
		  "process.ioPriority.priority: 8 is out of range (0 to 7)");
	CHECK_STR(parse_err(with("'execCPUAffinity':{'initial':'0-'}", "", "")),
		  "process.execCPUAffinity.initial: invalid cpu list \"0-\"");
	CHECK_STR(parse_err(with("", "'personality':{'domain':'BSD'}", "")),
		  "linux.personality.domain: unknown personality domain \"BSD\"");
	CHECK_STR(parse_err(with("", "'memoryPolicy':{'mode':'MPOL_X'}", "")),
		  "linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_X\"");
	CHECK_STR(parse_err(with("", "'netDevices':{'a/b':{}}", "")),
		  "linux.netDevices[\"a/b\"]: invalid network interface name");
}

TEST(memory_policy)
{
	unsigned long m[HUTCH_MPOL_MAX_NODES / (8 * sizeof(unsigned long))];
	const unsigned long lbits = 8 * sizeof(unsigned long);

	CHECK_INT(hutch_bitlist_parse("0-3,7,64", m, HUTCH_MPOL_MAX_NODES), 0);
	CHECK(m[0] == 0x8fUL);
	CHECK(m[64 / lbits] & (1UL << (64 % lbits)));
	CHECK_INT(hutch_bitlist_parse("", m, HUTCH_MPOL_MAX_NODES), 0);
	CHECK(m[0] == 0 && m[1] == 0);
	CHECK_INT(hutch_bitlist_parse("1023", m, HUTCH_MPOL_MAX_NODES), 0);
	CHECK(m[1023 / lbits] == 1UL << (1023 % lbits));
	for (const char *const *bad =
		 (const char *const[]){"1024", "3-1", "0-", "-1", "0,", ",0", "a", "0 ", "1-2-3",
				       "0--1", "99999999999999999999", NULL};
	     *bad != NULL; bad++) {
		if (hutch_bitlist_parse(*bad, m, HUTCH_MPOL_MAX_NODES) != -1)
			fprintf(stderr, "node list \"%s\" accepted\n", *bad);
		CHECK_INT(hutch_bitlist_parse(*bad, m, HUTCH_MPOL_MAX_NODES), -1);
	}
	{
		_cleanup_spec_ struct hutch_spec *s =
		    parse_ok(with("",
				  "'memoryPolicy':{'mode':'MPOL_INTERLEAVE','nodes':'0,2',"
				  "'flags':['MPOL_F_RELATIVE_NODES']}",
				  ""));
		CHECK(s != NULL);
		if (s == NULL)
			return;
		CHECK(s->linux_.has_memory_policy);
		CHECK_INT(s->linux_.memory_policy.mode, HUTCH_MPOL_INTERLEAVE);
		CHECK_INT((int)s->linux_.memory_policy.flags, HUTCH_MPOL_F_RELATIVE_NODES);
		CHECK(s->linux_.memory_policy.has_nodes);
		CHECK(s->linux_.memory_policy.mask[0] == 0x5UL);
		CHECK_STR(s->linux_.memory_policy.mode_name, "MPOL_INTERLEAVE");
	}
	{
		/* MPOL_PREFERRED without nodes is the local node (set_mempolicy(2)) */
		_cleanup_spec_ struct hutch_spec *s =
		    parse_ok(with("", "'memoryPolicy':{'mode':'MPOL_PREFERRED'}", ""));
		CHECK(s != NULL && !s->linux_.memory_policy.has_nodes);
	}
	CHECK_STR(parse_err(with("", "'memoryPolicy':{'mode':'MPOL_DEFAULT','nodes':'1'}", "")),
		  "linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes");
	CHECK_STR(
	    parse_err(with("", "'memoryPolicy':{'mode':'MPOL_PREFERRED_MANY','nodes':''}", "")),
	    "linux.memoryPolicy.nodes: MPOL_PREFERRED_MANY needs at least one node");
	CHECK_STR(parse_err(with("", "'memoryPolicy':{'nodes':'0'}", "")),
		  "linux.memoryPolicy.mode: required");
}

TEST(strict_json)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	const char *good = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}";
	char buf[256];
	struct hutch_spec *s;

	/* Invalid UTF-8 in a string. */
	snprintf(buf, sizeof(buf), "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\xff\"}}");
	s = hutch_spec_parse(buf, strlen(buf), &err);
	CHECK(s == NULL);
	CHECK_CONTAINS(err ? err->msg : NULL, "invalid UTF-8");
	hutch_error_free(err);
	err = NULL;

	/* Overlong encoding of '/', a UTF-16 surrogate, a code point past
	 * U+10FFFF, a truncated sequence: json-c lets some through. */
	static const char *const bad[] = {"\xc0\xaf",	  "\xe0\x80\xaf",
					  "\xed\xa0\x80", "\xf4\x90\x80\x80",
					  "\xe2\x82",	  "\xf8\x88\x80\x80\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r%s\"}}",
			 bad[i]);
		s = hutch_spec_parse(buf, strlen(buf), &err);
		CHECK(s == NULL);
		CHECK_CONTAINS(err ? err->msg : NULL, "invalid UTF-8");
		hutch_spec_free(s);
		hutch_error_free(err);
		err = NULL;
	}
	/* Valid multi-byte text passes: 2, 3 and 4 byte sequences. */
	snprintf(buf, sizeof(buf),
		 "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":"
		 "\"r\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb9\"}}");
	s = hutch_spec_parse(buf, strlen(buf), &err);
	CHECK(s != NULL);
	if (s != NULL)
		CHECK_STR(s->root_path, "r\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb9");
	hutch_spec_free(s);

	CHECK_CONTAINS(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'}} x"),
		       "invalid JSON at byte 43");
	CHECK_CONTAINS(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'}}{}"), "invalid JSON");
	CHECK_CONTAINS(parse_err("{'ociVersion':'1.0.0','root':{'path':'r'},}"), "invalid JSON");
	CHECK_CONTAINS(parse_err("{'ociVersion':'1.0.0'"), "unexpected end of input");
	CHECK_CONTAINS(parse_err(""), "unexpected end of input");
	CHECK_CONTAINS(parse_err("[]"), "top-level value must be an object");
	CHECK_CONTAINS(parse_err("/* c */ {}"), "invalid JSON");

	/* Trailing whitespace is fine; a NUL and garbage after it is not. */
	snprintf(buf, sizeof(buf), "%s \n\t", good);
	s = hutch_spec_parse(buf, strlen(buf), &err);
	CHECK(s != NULL);
	hutch_spec_free(s);
	memcpy(buf, good, strlen(good));
	buf[strlen(good)] = '\0';
	memcpy(buf + strlen(good) + 1, "xx", 2);
	s = hutch_spec_parse(buf, strlen(good) + 3, &err);
	CHECK(s == NULL);
	CHECK_CONTAINS(err ? err->msg : NULL, "unexpected data after the value");
	hutch_error_free(err);
	err = NULL;

	/* A NUL inside a string cannot become a C string. */
	CHECK_STR(parse_err("{'ociVersion':'1.0.0','root':{'path':'a\\u0000b'}}"),
		  "root.path: must not contain a NUL character");
}

TEST(depth_and_size)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	const size_t depth = 10000;
	_cleanup_free_ char *deep = malloc(2 * depth + 64);
	_cleanup_free_ char *big = NULL;
	const size_t big_len = 16u * 1024 * 1024 + 2;
	struct hutch_spec *s;
	char *p = deep;

	p += sprintf(p, "{\"ociVersion\":\"1.0.0\",\"x\":");
	for (size_t i = 0; i < depth; i++)
		*p++ = '[';
	for (size_t i = 0; i < depth; i++)
		*p++ = ']';
	*p++ = '}';
	*p = '\0';
	s = hutch_spec_parse(deep, strlen(deep), &err);
	CHECK(s == NULL);
	CHECK_CONTAINS(err ? err->msg : NULL, "nesting too deep");
	hutch_error_free(err);
	err = NULL;

	/* 16 MiB + 2 of valid JSON: refused for its size alone. */
	big = malloc(big_len + 1);
	memset(big, ' ', big_len);
	memcpy(big, "{}", 2);
	big[big_len] = '\0';
	s = hutch_spec_parse(big, big_len, &err);
	CHECK(s == NULL);
	CHECK_CONTAINS(err ? err->msg : NULL, "larger than");
}

TEST(load)
{
	char dir[] = "/tmp/hutch-spec-test-XXXXXX";
	char path[256];
	_cleanup_error_ struct hutch_error *err = NULL;
	struct hutch_spec *s;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	s = hutch_spec_load(dir, &err);
	CHECK(s == NULL);
	CHECK_CONTAINS(err ? err->msg : NULL, "config.json");
	hutch_error_free(err);
	err = NULL;

	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(
		    "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"rootfs\"},\"hostname\":\"h\"}",
		    f);
		fclose(f);
	}
	s = hutch_spec_load(dir, &err);
	CHECK(s != NULL);
	if (s != NULL)
		CHECK_STR(s->hostname, "h");
	hutch_spec_free(s);

	f = fopen(path, "w");
	if (f != NULL) {
		fputs("{\"ociVersion\":\"3.0.0\",\"root\":{\"path\":\"rootfs\"}}", f);
		fclose(f);
	}
	s = hutch_spec_load(dir, &err);
	CHECK(s == NULL);
	CHECK_CONTAINS(err ? err->msg : NULL, "config.json: ociVersion: unsupported version");
	unlink(path);
	rmdir(dir);
}

TEST(parse_process)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_free_ char *t =
	    dq("{'cwd':'/tmp','args':['ls','-l'],'env':['X=1'],'user':{'uid':7},"
	       "'capabilities':{'effective':['CAP_SYS_PTRACE']},'terminal':true}");
	struct hutch_process p;

	CHECK_INT(hutch_spec_parse_process(t, strlen(t), &p, &err), 0);
	CHECK_STR(p.cwd, "/tmp");
	CHECK_STR(p.args[1], "-l");
	CHECK_INT(p.user.uid, 7);
	CHECK(p.terminal);
	CHECK_INT(p.capabilities.effective, 1ull << 19);
	hutch_process_clear(&p);
	CHECK(p.args == NULL);

	free(t);
	t = dq("{'cwd':'/','args':['x'],'capabilities':{'bounding':['CAP_NOPE']}}");
	CHECK_INT(hutch_spec_parse_process(t, strlen(t), &p, &err), -1);
	CHECK_STR(err ? err->msg : NULL,
		  "process.capabilities.bounding[0]: unknown capability \"CAP_NOPE\"");
	CHECK(p.cwd == NULL);
	hutch_error_free(err);
	err = NULL;

	free(t);
	t = dq("{'cwd':'/','args':['x'],'scheduler':{'policy':'SCHED_BATCH','nice':3}}");
	CHECK_INT(hutch_spec_parse_process(t, strlen(t), &p, &err), 0);
	CHECK(p.has_scheduler && p.scheduler.policy == 3 && p.scheduler.nice == 3);
	hutch_process_clear(&p);
}

TEST(parse_resources)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_free_ char *t = dq("{'memory':{'limit':1048576,'swap':-1},'pids':{'limit':100},"
				    "'cpu':{'quota':-1,'cpus':'1'}}");
	struct hutch_resources r;

	CHECK_INT(hutch_spec_parse_resources(t, strlen(t), &r, &err), 0);
	CHECK(r.has_memory && r.memory.has_limit);
	CHECK_INT(r.memory.limit, 1048576);
	CHECK_INT(r.memory.swap, -1);
	CHECK(r.has_pids_limit);
	CHECK_INT(r.pids_limit, 100);
	CHECK_INT(r.cpu.quota, -1);
	CHECK_STR(r.cpu.cpus, "1");
	CHECK(!r.has_blockio);
	hutch_resources_clear(&r);

	free(t);
	t = dq("{'memory':{'limit':'lots'}}");
	CHECK_INT(hutch_spec_parse_resources(t, strlen(t), &r, &err), -1);
	CHECK_STR(err ? err->msg : NULL, "linux.resources.memory.limit: expected an integer");
	hutch_error_free(err);
	err = NULL;

	free(t);
	t = dq("{'rdma':{'mlx4':{'hcaObjects':1}}}");
	CHECK_INT(hutch_spec_parse_resources(t, strlen(t), &r, &err), 0);
	CHECK_INT((int)r.n_rdma, 1);
	if (r.n_rdma == 1) {
		CHECK_STR(r.rdma[0].device, "mlx4");
		CHECK(r.rdma[0].has_hca_objects && r.rdma[0].hca_objects == 1);
		CHECK(!r.rdma[0].has_hca_handles);
	}
	hutch_resources_clear(&r);
	free(t);
	t = dq("{'rdma':{'mlx4':{'hcaObjects':-1}}}");
	CHECK_INT(hutch_spec_parse_resources(t, strlen(t), &r, &err), -1);
	CHECK_CONTAINS(err ? err->msg : "", "linux.resources.rdma");
	hutch_error_free(err);
	err = NULL;
}

TEST(names)
{
	CHECK_INT(hutch_ns_from_name("pid"), HUTCH_NS_PID);
	CHECK_INT(hutch_ns_from_name("network"), HUTCH_NS_NETWORK);
	CHECK_INT(hutch_ns_from_name("time"), HUTCH_NS_TIME);
	CHECK_INT(hutch_ns_from_name("net"), -1);
	CHECK_INT(hutch_ns_from_name(NULL), -1);
	for (int i = 0; i < HUTCH_NS__COUNT; i++)
		CHECK_INT(hutch_ns_from_name(hutch_ns_name(i)), i);
	CHECK(hutch_ns_name(HUTCH_NS__COUNT) == NULL);
	CHECK_INT(hutch_cap_last(), 40);
	CHECK_INT(hutch_cap_from_name("CAP_CHOWN"), 0);
	CHECK_INT(hutch_cap_from_name("CAP_SYS_ADMIN"), 21);
	CHECK_INT(hutch_cap_from_name("CAP_AUDIT_READ"), 37);
	CHECK_INT(hutch_cap_from_name("CAP_BPF"), 39);
	CHECK_INT(hutch_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	CHECK_INT(hutch_cap_from_name("SYS_ADMIN"), -1);
	for (int i = 0; i <= hutch_cap_last(); i++)
		CHECK_INT(hutch_cap_from_name(hutch_cap_name(i)), i);
	CHECK(hutch_cap_name(41) == NULL && hutch_cap_name(-1) == NULL);
	CHECK_INT(hutch_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	CHECK_INT(hutch_rlimit_from_name("RLIMIT_CPU"), RLIMIT_CPU);
	CHECK_INT(hutch_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	CHECK_INT(hutch_rlimit_from_name("RLIMIT_MSGQUEUE"), RLIMIT_MSGQUEUE);
	CHECK_INT(hutch_rlimit_from_name("NOFILE"), -1);
	CHECK_STR(hutch_hook_name(HUTCH_HOOK_PRESTART), "prestart");
	CHECK_STR(hutch_hook_name(HUTCH_HOOK_CREATE_RUNTIME), "createRuntime");
	CHECK_STR(hutch_hook_name(HUTCH_HOOK_CREATE_CONTAINER), "createContainer");
	CHECK_STR(hutch_hook_name(HUTCH_HOOK_START_CONTAINER), "startContainer");
	CHECK_STR(hutch_hook_name(HUTCH_HOOK_POSTSTART), "poststart");
	CHECK_STR(hutch_hook_name(HUTCH_HOOK_POSTSTOP), "poststop");
}

static bool has_option(const struct hutch_mount *m, const char *opt)
{
	for (size_t i = 0; m->options != NULL && m->options[i] != NULL; i++)
		if (strcmp(m->options[i], opt) == 0)
			return true;
	return false;
}

static const struct hutch_mount *find_mount(const struct hutch_spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (strcmp(s->mounts[i].destination, dest) == 0)
			return &s->mounts[i];
	return NULL;
}

TEST(default_spec)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_free_ char *text = hutch_spec_default_json(false, &err);
	_cleanup_spec_ struct hutch_spec *s = NULL;
	const struct hutch_mount *m;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	/* Pretty-printed, no escaped slashes. */
	CHECK_CONTAINS(text, "\n");
	CHECK_CONTAINS(text, "\"/proc\"");
	s = hutch_spec_parse(text, strlen(text), &err);
	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "%s\n", hutch_error_text(err));
		return;
	}
	CHECK_STR(s->oci_version, "1.3.0");
	CHECK_STR(s->root_path, "rootfs");
	CHECK(s->root_readonly);
	CHECK_STR(s->hostname, "hutch");
	CHECK(!s->process.terminal);
	CHECK_STR(s->process.args[0], "sh");
	CHECK(s->process.args[1] == NULL);
	CHECK_STR(s->process.cwd, "/");
	CHECK_CONTAINS(s->process.env[0], "PATH=");
	CHECK_STR(s->process.env[1], "TERM=xterm");
	CHECK(s->process.no_new_privileges);
	uint64_t caps = (1ull << 29) | (1ull << 5) | (1ull << 10);
	CHECK_INT(s->process.capabilities.bounding, caps);
	CHECK_INT(s->process.capabilities.effective, caps);
	CHECK_INT(s->process.capabilities.permitted, caps);
	CHECK(!s->process.capabilities.has_inheritable);
	CHECK(!s->process.capabilities.has_ambient);
	CHECK_INT(s->process.n_rlimits, 1);
	CHECK_INT(s->process.rlimits[0].resource, RLIMIT_NOFILE);
	CHECK_INT(s->process.rlimits[0].soft, 1024);
	CHECK_INT(s->process.rlimits[0].hard, 1024);
	CHECK_INT(s->n_mounts, 7);
	m = find_mount(s, "/dev/pts");
	CHECK(m != NULL && has_option(m, "gid=5") && has_option(m, "newinstance"));
	m = find_mount(s, "/sys");
	CHECK(m != NULL && strcmp(m->type, "sysfs") == 0 && has_option(m, "ro"));
	m = find_mount(s, "/sys/fs/cgroup");
	CHECK(m != NULL && has_option(m, "relatime"));
	CHECK(find_mount(s, "/dev/mqueue") != NULL);
	CHECK(find_mount(s, "/dev/shm") != NULL);
	CHECK(find_mount(s, "/proc") != NULL);
	CHECK(s->linux_.namespaces[HUTCH_NS_PID].present);
	CHECK(s->linux_.namespaces[HUTCH_NS_NETWORK].present);
	CHECK(s->linux_.namespaces[HUTCH_NS_IPC].present);
	CHECK(s->linux_.namespaces[HUTCH_NS_UTS].present);
	CHECK(s->linux_.namespaces[HUTCH_NS_MOUNT].present);
	CHECK(s->linux_.namespaces[HUTCH_NS_CGROUP].present);
	CHECK(!s->linux_.namespaces[HUTCH_NS_USER].present);
	CHECK(s->linux_.has_resources);
	CHECK_INT(s->linux_.resources.n_devices, 1);
	CHECK(!s->linux_.resources.devices[0].allow);
	CHECK_STR(s->linux_.resources.devices[0].access, "rwm");
	CHECK_STR(s->linux_.masked_paths[0], "/proc/acpi");
	CHECK_STR(s->linux_.readonly_paths[4], "/proc/sysrq-trigger");
}

TEST(default_spec_rootless)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_free_ char *text = hutch_spec_default_json(true, &err);
	_cleanup_spec_ struct hutch_spec *s = NULL;
	const struct hutch_mount *m;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	s = hutch_spec_parse(text, strlen(text), &err);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(s->linux_.namespaces[HUTCH_NS_USER].present);
	CHECK(!s->linux_.namespaces[HUTCH_NS_NETWORK].present);
	CHECK(s->linux_.namespaces[HUTCH_NS_PID].present);
	CHECK_INT(s->linux_.n_uid_mappings, 1);
	CHECK_INT(s->linux_.uid_mappings[0].container_id, 0);
	CHECK_INT(s->linux_.uid_mappings[0].host_id, geteuid());
	CHECK_INT(s->linux_.uid_mappings[0].size, 1);
	CHECK_INT(s->linux_.gid_mappings[0].host_id, getegid());
	CHECK(!s->linux_.has_resources);
	m = find_mount(s, "/sys");
	CHECK(m != NULL && has_option(m, "rbind") && strcmp(m->source, "/sys") == 0);
	m = find_mount(s, "/dev/pts");
	CHECK(m != NULL && !has_option(m, "gid=5"));
}

TEST(features)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_free_ char *text = hutch_spec_features_json(&err);
	struct json_object *top, *linux_, *v, *arr;
	bool found_pid = false, found_user = false;

	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK_CONTAINS(text, "\"pid\"");
	top = json_tokener_parse(text);
	CHECK(top != NULL);
	if (top == NULL)
		return;
	CHECK(json_object_object_get_ex(top, "ociVersionMin", &v));
	CHECK_STR(json_object_get_string(v), "1.0.0");
	CHECK(json_object_object_get_ex(top, "ociVersionMax", &v));
	CHECK_STR(json_object_get_string(v), "1.3.0");
	CHECK(json_object_object_get_ex(top, "hooks", &arr));
	CHECK_INT(json_object_array_length(arr), 6);
	CHECK(json_object_object_get_ex(top, "mountOptions", &arr));
	CHECK(json_object_array_length(arr) >= 50);
	CHECK(json_object_object_get_ex(top, "linux", &linux_));
	CHECK(json_object_object_get_ex(linux_, "namespaces", &arr));
	CHECK_INT(json_object_array_length(arr), 8);
	for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(arr, i));

		found_pid |= strcmp(n, "pid") == 0;
		found_user |= strcmp(n, "user") == 0;
	}
	CHECK(found_pid && found_user);
	CHECK(json_object_object_get_ex(linux_, "capabilities", &arr));
	CHECK_INT(json_object_array_length(arr), 41);
	CHECK(json_object_object_get_ex(linux_, "seccomp", &v));
	CHECK(json_object_object_get_ex(v, "actions", &arr));
	CHECK_INT(json_object_array_length(arr), 9); /* every action, SCMP_ACT_NOTIFY too */
	CHECK(json_object_object_get_ex(v, "operators", &arr));
	CHECK_INT(json_object_array_length(arr), 7);
	CHECK(json_object_object_get_ex(v, "archs", &arr));
	CHECK(json_object_array_length(arr) >= 1);
	CHECK(json_object_object_get_ex(linux_, "memoryPolicy", &v));
	CHECK(json_object_object_get_ex(v, "modes", &arr));
	CHECK_INT(json_object_array_length(arr), 7);
	CHECK(json_object_object_get_ex(v, "flags", &arr));
	CHECK_INT(json_object_array_length(arr), 3);
	CHECK(json_object_object_get_ex(linux_, "netDevices", &v));
	CHECK(json_object_object_get_ex(v, "enabled", &v));
	CHECK(json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(linux_, "intelRdt", &v));
	CHECK(json_object_object_get_ex(v, "enabled", &v));
	CHECK(!json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(linux_, "cgroup", &v));
	CHECK(json_object_object_get_ex(v, "v1", &v));
	CHECK(json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(top, "annotations", &v));
	CHECK(json_object_object_get_ex(v, "io.github.seccomp.libseccomp.version", &v));
	json_object_put(top);
}

int main(void)
{
	RUN(full_top_and_mounts);
	RUN(full_process);
	RUN(full_hooks);
	RUN(full_linux);
	RUN(full_resources);
	RUN(full_seccomp);
	RUN(seccomp_names);
	RUN(minimal_and_optional);
	RUN(null_is_absent);
	RUN(versions);
	RUN(root_required);
	RUN(type_errors);
	RUN(documented_messages);
	RUN(process_required);
	RUN(hooks);
	RUN(linux_values);
	RUN(unknown_ignored);
	RUN(refused);
	RUN(strict_json);
	RUN(depth_and_size);
	RUN(load);
	RUN(parse_process);
	RUN(parse_resources);
	RUN(names);
	RUN(default_spec);
	RUN(default_spec_rootless);
	RUN(features);
	RUN(memory_policy);
	return test_summary();
}
